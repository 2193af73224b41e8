"""{{name}}: a cutover check in Python (componentize-py; see build.sh)."""

import wit_world
from wit_world.imports import host, types


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.Descriptor:
        return types.Descriptor(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.CHECK,
            capabilities=types.Capabilities(hosts=[], directories=[], config_keys=[], secrets=[]),
            description="TODO: what this check verifies.",
        )

    def evaluate(self, ctx: types.Context) -> types.Verdict:
        # raise componentize_py_types.Err(types.PluginError_InvalidInput("...")) for an error
        host.log(host.LogLevel.INFO, "evaluated", [])
        return types.Verdict(
            verdict=types.VerdictKind.PASS,
            message="{{name}}: ok",
            measurements=[types.Measurement(name="params_bytes", value=float(len(ctx.params)))],
        )
