// {{name}}: a cutover action in JavaScript (componentize-js; see build.sh).
import { log } from 'cutover:plugin/host@0.1.1';

export function describe() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    kind: 'action',
    capabilities: { hosts: [], directories: [], configKeys: [], secrets: [] },
    description: 'TODO: what this action does.',
  };
}

// Throw { payload: { tag: 'failed', val: '...' } } for a plugin-error.
export function run(ctx) {
  log('info', 'ran', []);
  return { summary: '{{name}}: done', details: [['params_bytes', String(ctx.params.length)]] };
}
