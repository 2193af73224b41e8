/* {{name}}: a cutover adapter in C. Bindings: gen/ (wit-bindgen c, see build.sh).
 * Exported strings must be heap memory: the generated post-return frees them.
 * Borrowed sink/source handles must be dropped before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static bool fail(adapter_plugin_error_t *err, uint8_t tag, const char *msg) {
    err->tag = tag;
    adapter_string_dup(&err->val.failed, msg); /* every case holds a string */
    return false;
}

void exports_adapter_describe(adapter_descriptor_t *ret) {
    memset(ret, 0, sizeof *ret);
    adapter_string_dup(&ret->name, "{{name}}");
    adapter_string_dup(&ret->version, "0.1.0");
    ret->kind = CUTOVER_PLUGIN_TYPES_PLUGIN_KIND_ADAPTER;
    adapter_string_dup(&ret->description, "TODO: which alerting system this adapter talks to.");
}

bool exports_adapter_health(adapter_health_report_t *ret, adapter_plugin_error_t *err) {
    memset(ret, 0, sizeof *ret);
    ret->available = true;
    adapter_string_dup(&ret->message, "{{name}}: ok");
    return true;
}

bool exports_adapter_collect_alerts(adapter_window_t *window, adapter_list_alert_t *ret,
                                    adapter_plugin_error_t *err) {
    ret->ptr = NULL;
    ret->len = 0;
    return true;
}

bool exports_adapter_export_data(adapter_string_t *kind, adapter_borrow_data_sink_t sink,
                                 adapter_export_info_t *ret, adapter_plugin_error_t *err) {
    memset(ret, 0, sizeof *ret);
    uint8_t body[] = "{}";
    adapter_list_u8_t chunk = {body, 2};
    adapter_string_t why;
    bool written = cutover_plugin_host_method_data_sink_write(sink, &chunk, &why);
    cutover_plugin_host_data_sink_drop_borrow(sink);
    if (!written) {
        adapter_string_free(&why);
        adapter_string_free(kind);
        return fail(err, CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_FAILED, "write failed");
    }
    adapter_string_free(kind);
    adapter_string_dup(&ret->content_type, "application/json");
    return true;
}

bool exports_adapter_import_data(adapter_string_t *kind, adapter_borrow_data_source_t source,
                                 adapter_outcome_t *ret, adapter_plugin_error_t *err) {
    memset(ret, 0, sizeof *ret);
    adapter_string_free(kind);
    size_t total = 0;
    for (;;) {
        adapter_list_u8_t chunk;
        adapter_string_t why;
        if (!cutover_plugin_host_method_data_source_read(source, 65536, &chunk, &why)) {
            cutover_plugin_host_data_source_drop_borrow(source);
            adapter_string_free(&why);
            return fail(err, CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_FAILED, "read failed");
        }
        size_t n = chunk.len;
        adapter_list_u8_free(&chunk);
        if (n == 0) break;
        total += n;
    }
    cutover_plugin_host_data_source_drop_borrow(source);
    char summary[64];
    snprintf(summary, sizeof summary, "{{name}}: read %zu bytes", total);
    adapter_string_dup(&ret->summary, summary);
    return true;
}

bool exports_adapter_capture_state(adapter_string_t *category, adapter_borrow_data_sink_t sink,
                                   adapter_export_info_t *ret, adapter_plugin_error_t *err) {
    cutover_plugin_host_data_sink_drop_borrow(sink);
    adapter_string_free(category);
    return fail(err, CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_UNSUPPORTED, "capture-state is not supported");
}

bool exports_adapter_restore_state(adapter_string_t *category, adapter_borrow_data_source_t source,
                                   adapter_outcome_t *ret, adapter_plugin_error_t *err) {
    cutover_plugin_host_data_source_drop_borrow(source);
    adapter_string_free(category);
    return fail(err, CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_UNSUPPORTED, "restore-state is not supported");
}
