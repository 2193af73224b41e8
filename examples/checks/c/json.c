/* See json.h. Recursive descent with a depth cap; every allocation checked. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 128

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void fail(parser *p, const char *what) {
    if (!p->failed) {
        snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
        p->failed = 1;
    }
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static jval *new_val(parser *p, jtype t) {
    jval *v = calloc(1, sizeof *v);
    if (!v) fail(p, "out of memory");
    else v->type = t;
    return v;
}

static int push(parser *p, jval *v, jval *item, char *key) {
    jval **items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (!items) { fail(p, "out of memory"); return 0; }
    v->items = items;
    if (v->type == J_OBJ) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (!keys) { fail(p, "out of memory"); return 0; }
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = item;
    return 1;
}

static int hex4(parser *p, unsigned *out) {
    unsigned v = 0;
    if (p->pos + 4 > p->len) { fail(p, "truncated \\u escape"); return 0; }
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else { p->pos--; fail(p, "bad hex digit in \\u escape"); return 0; }
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string at p->pos (on the opening quote); decoded into *out. */
static int parse_string(parser *p, char **out, size_t *outlen) {
    p->pos++; /* opening quote */
    /* Decoded text is never longer than the source. */
    size_t start = p->pos, cap = 0;
    while (start + cap < p->len && p->s[start + cap] != '"') cap += (p->s[start + cap] == '\\') ? 2 : 1;
    char *buf = malloc(cap + 4 + 1);
    if (!buf) { fail(p, "out of memory"); return 0; }
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len) { free(buf); fail(p, "unterminated string"); return 0; }
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c < 0x20) { free(buf); fail(p, "control character in string"); return 0; }
        if (c != '\\') { buf[n++] = (char)c; p->pos++; continue; }
        p->pos++;
        if (p->pos >= p->len) { free(buf); fail(p, "unterminated escape"); return 0; }
        char e = p->s[p->pos++];
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!hex4(p, &cp)) { free(buf); return 0; }
            if (cp >= 0xD800 && cp <= 0xDBFF && p->pos + 6 <= p->len && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u') {
                unsigned lo;
                p->pos += 2;
                if (!hex4(p, &lo)) { free(buf); return 0; }
                if (lo >= 0xDC00 && lo <= 0xDFFF) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else { n += put_utf8(buf + n, 0xFFFD); cp = lo; }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogate */
            n += put_utf8(buf + n, cp);
            break;
        }
        default: p->pos--; free(buf); fail(p, "bad escape in string"); return 0;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 1;
}

static int match_word(parser *p, const char *w) {
    size_t l = strlen(w);
    if (p->pos + l <= p->len && memcmp(p->s + p->pos, w, l) == 0) { p->pos += l; return 1; }
    return 0;
}

static int parse_number(parser *p) {
    size_t start = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '-') p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == digits) { fail(p, "expected a value"); return 0; }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        size_t frac = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == frac) { fail(p, "expected digits after the decimal point"); return 0; }
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        size_t exp = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == exp) { fail(p, "expected exponent digits"); return 0; }
    }
    return p->pos > start;
}

static jval *parse_value(parser *p, int depth);

static jval *parse_container(parser *p, int depth, int is_obj) {
    jval *v = new_val(p, is_obj ? J_OBJ : J_ARR);
    if (!v) return NULL;
    char close = is_obj ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return v; }
    for (;;) {
        char *key = NULL;
        size_t klen;
        skip_ws(p);
        if (is_obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"') { fail(p, "expected a member name"); break; }
            if (!parse_string(p, &key, &klen)) break;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') { free(key); fail(p, "expected ':'"); break; }
            p->pos++;
        }
        jval *item = parse_value(p, depth + 1);
        if (!item) { free(key); break; }
        if (!push(p, v, item, key)) { free(key); json_free(item); break; }
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return v; }
        fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    json_free(v);
    return NULL;
}

static jval *parse_value(parser *p, int depth) {
    if (depth > MAX_DEPTH) { fail(p, "nested too deeply"); return NULL; }
    skip_ws(p);
    if (p->pos >= p->len) { fail(p, "unexpected end of input"); return NULL; }
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return parse_container(p, depth, c == '{');
    if (c == '"') {
        jval *v = new_val(p, J_STR);
        if (v && !parse_string(p, &v->str, &v->len)) { free(v); return NULL; }
        return v;
    }
    if (match_word(p, "true") || match_word(p, "false")) {
        jval *v = new_val(p, J_BOOL);
        return v;
    }
    if (match_word(p, "null")) return new_val(p, J_NULL);
    if (c == '-' || (c >= '0' && c <= '9')) {
        if (!parse_number(p)) return NULL;
        return new_val(p, J_NUM);
    }
    fail(p, "expected a value");
    return NULL;
}

jval *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    parser p = {text, len, 0, err, errlen, 0};
    jval *v = parse_value(&p, 0);
    if (!v) return NULL;
    skip_ws(&p);
    if (p.pos != p.len) {
        fail(&p, "trailing characters after the document");
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(jval *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

const jval *json_get(const jval *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) return NULL;
    const jval *found = NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->n; i++)
        if (strlen(obj->keys[i]) == kl && memcmp(obj->keys[i], key, kl) == 0) found = obj->items[i];
    return found;
}

int json_is_str(const jval *v) { return v && v->type == J_STR; }
