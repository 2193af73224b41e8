/* {{name}}: a cutover action in C. Bindings: gen/ (wit-bindgen c, see build.sh).
 * Exported strings must be heap memory: the generated post-return frees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"

void exports_action_describe(action_descriptor_t *ret) {
    memset(ret, 0, sizeof *ret);
    action_string_dup(&ret->name, "{{name}}");
    action_string_dup(&ret->version, "0.1.0");
    ret->kind = CUTOVER_PLUGIN_TYPES_PLUGIN_KIND_ACTION;
    action_string_dup(&ret->description, "TODO: what this action does.");
}

bool exports_action_run(action_context_t *ctx, action_outcome_t *ret, action_plugin_error_t *err) {
    memset(ret, 0, sizeof *ret);
    char n[32];
    snprintf(n, sizeof n, "%zu", ctx->params.len);
    action_context_free(ctx);
    action_tuple2_string_string_t *d = calloc(1, sizeof *d);
    if (!d) {
        err->tag = CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_FAILED;
        action_string_dup(&err->val.failed, "out of memory");
        return false;
    }
    action_string_dup(&d->f0, "params_bytes");
    action_string_dup(&d->f1, n);
    action_string_dup(&ret->summary, "{{name}}: done");
    ret->details.ptr = d;
    ret->details.len = 1;
    return true;
}
