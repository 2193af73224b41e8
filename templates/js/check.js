// {{name}}: a cutover check in JavaScript (componentize-js; see build.sh).
import { log } from 'cutover:plugin/host@0.1.1';

export function describe() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    kind: 'check',
    capabilities: { hosts: [], directories: [], configKeys: [], secrets: [] },
    description: 'TODO: what this check verifies.',
  };
}

// Throw { payload: { tag: 'invalid-input', val: '...' } } for a plugin-error.
export function evaluate(ctx) {
  log('info', 'evaluated', []);
  return {
    verdict: 'pass',
    message: '{{name}}: ok',
    measurements: [{ name: 'params_bytes', value: ctx.params.length }],
  };
}
