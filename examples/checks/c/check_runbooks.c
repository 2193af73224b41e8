/* example-check-c: every alerting rule has a runbook_url annotation and a
 * severity label.
 *
 * Same behaviour as the Rust, JavaScript and Python versions in
 * examples/checks/ (see examples/checks/README.md for the exact verdicts and
 * messages). Bindings: `wit-bindgen c wit --world check --out-dir gen`
 * (scripts/build-polyglot.sh does it). Exported strings are heap memory: the
 * generated post-return functions free them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

#define NAME "example-check-c"

/* A growable NUL-terminated text buffer. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} text;

static void append(text *t, const char *s, size_t n) {
    if (t->oom) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *p = realloc(t->s, cap);
        if (!p) { t->oom = 1; return; }
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void appendf(text *t, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) append(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void append_str(text *t, const jval *v) {
    if (json_is_str(v)) append(t, v->str, v->len);
}

/* True when obj is an object whose key holds a non-empty string. */
static int has_text(const jval *obj, const char *key) {
    const jval *v = json_get(obj, key);
    return json_is_str(v) && v->len > 0;
}

static int is_alerting(const jval *rule) {
    const jval *t = json_get(rule, "type");
    return json_is_str(t) && t->len == 8 && memcmp(t->str, "alerting", 8) == 0;
}

static bool invalid(check_plugin_error_t *err, const char *msg) {
    err->tag = CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_INVALID_INPUT;
    check_string_dup(&err->val.invalid_input, msg);
    return false;
}

static void measure(cutover_plugin_types_measurement_t *m, const char *name, size_t value) {
    check_string_dup(&m->name, name);
    m->value = (double)value;
}

/* Judges a Prometheus /api/v1/rules JSON document. */
static bool judge(const jval *doc, check_verdict_t *ret, check_plugin_error_t *err) {
    const jval *groups = json_get(json_get(doc, "data"), "groups");
    if (!groups || groups->type != J_ARR)
        return invalid(err, "params.rules: expected data.groups to be an array");
    size_t total = 0, missing_runbook = 0, missing_severity = 0, offenders = 0;
    text list = {0};
    for (size_t gi = 0; gi < groups->n; gi++) {
        const jval *group = groups->items[gi];
        const jval *rules = json_get(group, "rules");
        if (!rules || rules->type != J_ARR) {
            char msg[96];
            snprintf(msg, sizeof msg, "params.rules: data.groups[%zu].rules: expected an array", gi);
            free(list.s);
            return invalid(err, msg);
        }
        for (size_t ri = 0; ri < rules->n; ri++) {
            const jval *rule = rules->items[ri];
            if (!is_alerting(rule)) continue;
            total++;
            int no_runbook = !has_text(json_get(rule, "annotations"), "runbook_url");
            int no_severity = !has_text(json_get(rule, "labels"), "severity");
            missing_runbook += (size_t)no_runbook;
            missing_severity += (size_t)no_severity;
            if (!no_runbook && !no_severity) continue;
            if (offenders++ > 0) append(&list, ", ", 2);
            append_str(&list, json_get(group, "name"));
            append(&list, "/", 1);
            append_str(&list, json_get(rule, "name"));
            if (no_runbook && no_severity) appendf(&list, " (runbook_url, severity)");
            else appendf(&list, no_runbook ? " (runbook_url)" : " (severity)");
        }
    }
    text msg = {0};
    if (total == 0) {
        ret->verdict = CUTOVER_PLUGIN_TYPES_VERDICT_KIND_NO_DATA;
        appendf(&msg, "no alerting rules in the rule set");
    } else if (offenders > 0) {
        ret->verdict = CUTOVER_PLUGIN_TYPES_VERDICT_KIND_FAIL;
        appendf(&msg, "%zu of %zu alerting rules lack a runbook_url annotation or a severity label: ",
                offenders, total);
        if (list.s) append(&msg, list.s, list.len);
    } else {
        ret->verdict = CUTOVER_PLUGIN_TYPES_VERDICT_KIND_PASS;
        appendf(&msg, "all %zu alerting rules have a runbook_url annotation and a severity label", total);
    }
    int oom = list.oom || msg.oom;
    free(list.s);
    cutover_plugin_types_measurement_t *ms = calloc(3, sizeof *ms);
    if (oom || !ms) {
        free(msg.s);
        free(ms);
        err->tag = CUTOVER_PLUGIN_TYPES_PLUGIN_ERROR_FAILED;
        check_string_dup(&err->val.failed, "out of memory");
        return false;
    }
    ret->message.ptr = (uint8_t *)msg.s;
    ret->message.len = msg.len;
    measure(&ms[0], "rules_total", total);
    measure(&ms[1], "rules_missing_runbook", missing_runbook);
    measure(&ms[2], "rules_missing_severity", missing_severity);
    ret->measurements.ptr = ms;
    ret->measurements.len = 3;
    return true;
}

static bool evaluate_params(const check_string_t *params, check_verdict_t *ret, check_plugin_error_t *err) {
    char why[128];
    jval *p = json_parse((const char *)params->ptr, params->len, why, sizeof why);
    if (!p || p->type != J_OBJ) {
        json_free(p);
        return invalid(err, "params: expected a JSON object");
    }
    const jval *rules = json_get(p, "rules");
    if (!json_is_str(rules)) {
        json_free(p);
        return invalid(err, "params.rules: expected a string holding the rule set as JSON");
    }
    jval *doc = json_parse(rules->str, rules->len, why, sizeof why);
    json_free(p);
    if (!doc) {
        char msg[192];
        snprintf(msg, sizeof msg, "params.rules: not valid JSON: %s", why);
        return invalid(err, msg);
    }
    bool ok = judge(doc, ret, err);
    json_free(doc);
    return ok;
}

void exports_check_describe(check_descriptor_t *ret) {
    memset(ret, 0, sizeof *ret);
    check_string_dup(&ret->name, NAME);
    check_string_dup(&ret->version, "0.1.0");
    ret->kind = CUTOVER_PLUGIN_TYPES_PLUGIN_KIND_CHECK;
    check_string_dup(&ret->description,
                     "Every alerting rule has a runbook_url annotation and a severity label (C).");
}

bool exports_check_evaluate(check_context_t *ctx, check_verdict_t *ret, check_plugin_error_t *err) {
    memset(ret, 0, sizeof *ret);
    bool ok = evaluate_params(&ctx->params, ret, err);
    cutover_plugin_types_context_free(ctx);
    if (ok) {
        char line[64];
        snprintf(line, sizeof line, "checked %.0f alerting rules", ret->measurements.ptr[0].value);
        check_string_t msg;
        check_string_set(&msg, line);
        check_tuple2_string_string_t field;
        check_string_set(&field.f0, "plugin");
        check_string_set(&field.f1, NAME);
        cutover_plugin_host_pairs_t fields = {&field, 1};
        cutover_plugin_host_log(CUTOVER_PLUGIN_HOST_LOG_LEVEL_INFO, &msg, &fields);
    }
    return ok;
}
