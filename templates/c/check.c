/* {{name}}: a cutover check in C. Bindings: gen/ (wit-bindgen c, see build.sh).
 * Exported strings must be heap memory: the generated post-return frees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

void exports_check_describe(check_descriptor_t *ret) {
    memset(ret, 0, sizeof *ret);
    check_string_dup(&ret->name, "{{name}}");
    check_string_dup(&ret->version, "0.1.0");
    ret->kind = CUTOVER_PLUGIN_TYPES_PLUGIN_KIND_CHECK;
    check_string_dup(&ret->description, "TODO: what this check verifies.");
}

bool exports_check_evaluate(check_context_t *ctx, check_verdict_t *ret, check_plugin_error_t *err) {
    memset(ret, 0, sizeof *ret);
    size_t params_bytes = ctx->params.len;
    check_context_free(ctx);
    cutover_plugin_types_measurement_t *m = calloc(1, sizeof *m);
    if (!m) {
        err->tag = CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_FAILED;
        check_string_dup(&err->val.failed, "out of memory");
        return false;
    }
    check_string_dup(&m->name, "params_bytes");
    m->value = (double)params_bytes;
    ret->verdict = CUTOVER_PLUGIN_TYPES_VERDICT_KIND_PASS;
    check_string_dup(&ret->message, "{{name}}: ok");
    ret->measurements.ptr = m;
    ret->measurements.len = 1;
    check_string_t line;
    check_string_set(&line, "evaluated");
    cutover_plugin_host_pairs_t no_fields = {NULL, 0};
    cutover_plugin_host_log(CUTOVER_PLUGIN_HOST_LOG_LEVEL_INFO, &line, &no_fields);
    return true;
}
