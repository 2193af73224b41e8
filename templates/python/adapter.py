"""{{name}}: a cutover adapter in Python (componentize-py; see build.sh)."""

from typing import List

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.Descriptor:
        return types.Descriptor(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.ADAPTER,
            capabilities=types.Capabilities(hosts=[], directories=[], config_keys=[], secrets=[]),
            description="TODO: which alerting system this adapter talks to.",
        )

    def health(self) -> types.HealthReport:
        return types.HealthReport(available=True, latency_ms=0, message="{{name}}: ok")

    def collect_alerts(self, window: types.Window) -> List[types.Alert]:
        return []

    def export_data(self, kind: str, sink: host.DataSink) -> types.ExportInfo:
        sink.write(b"{}")
        return types.ExportInfo(content_type="application/json", metadata=[("kind", kind)])

    def import_data(self, kind: str, source: host.DataSource) -> types.Outcome:
        total = 0
        while True:
            chunk = source.read(65536)
            if not chunk:
                break
            total += len(chunk)
        return types.Outcome(summary=f"{{name}}: read {total} bytes of {kind}", details=[])

    def capture_state(self, category: str, sink: host.DataSink) -> types.ExportInfo:
        raise Err(types.PluginError_Unsupported("capture-state is not supported"))

    def restore_state(self, category: str, source: host.DataSource) -> types.Outcome:
        raise Err(types.PluginError_Unsupported("restore-state is not supported"))
