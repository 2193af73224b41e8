// {{name}}: a cutover adapter in JavaScript (componentize-js; see build.sh).

const unsupported = (what) => ({ payload: { tag: 'unsupported', val: `${what} is not supported` } });

export function describe() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    kind: 'adapter',
    capabilities: { hosts: [], directories: [], configKeys: [], secrets: [] },
    description: 'TODO: which alerting system this adapter talks to.',
  };
}

export function health() {
  return { available: true, latencyMs: 0, message: '{{name}}: ok' };
}

export function collectAlerts(_window) {
  return [];
}

export function exportData(kind, sink) {
  sink.write(new TextEncoder().encode('{}'));
  return { contentType: 'application/json', metadata: [['kind', kind]] };
}

export function importData(kind, source) {
  let total = 0;
  for (;;) {
    const chunk = source.read(65536);
    if (chunk.length === 0) break;
    total += chunk.length;
  }
  return { summary: `{{name}}: read ${total} bytes of ${kind}`, details: [] };
}

export function captureState(_category, _sink) {
  throw unsupported('capture-state');
}

export function restoreState(_category, _source) {
  throw unsupported('restore-state');
}
