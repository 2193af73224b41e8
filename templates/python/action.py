"""{{name}}: a cutover action in Python (componentize-py; see build.sh)."""

import wit_world
from wit_world.imports import host, types


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.Descriptor:
        return types.Descriptor(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.ACTION,
            capabilities=types.Capabilities(hosts=[], directories=[], config_keys=[], secrets=[]),
            description="TODO: what this action does.",
        )

    def run(self, ctx: types.Context) -> types.Outcome:
        # raise componentize_py_types.Err(types.PluginError_Failed("...")) for an error
        host.log(host.LogLevel.INFO, "ran", [])
        return types.Outcome(
            summary="{{name}}: done",
            details=[("params_bytes", str(len(ctx.params)))],
        )
