/* A small JSON reader: parses a UTF-8 document into a tree of jval nodes.
 * Enough for rule sets: objects, arrays, strings (all escapes, \u with
 * surrogate pairs), numbers, true/false/null. Errors name the byte offset. */
#ifndef EXAMPLE_CHECK_JSON_H
#define EXAMPLE_CHECK_JSON_H

#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    /* J_STR: decoded bytes (NUL-terminated, may hold NULs); J_BOOL: "t"/"f". */
    char *str;
    size_t len;
    /* J_ARR and J_OBJ: n items; J_OBJ also has n keys (decoded, NUL-terminated). */
    struct jval **items;
    char **keys;
    size_t n;
} jval;

/* Parses text[0..len). On failure returns NULL and writes a message
 * ("<what> at byte <offset>") into err (errlen bytes). */
jval *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Frees a tree from json_parse. */
void json_free(jval *v);

/* The value of the last member named key of an object, or NULL. */
const jval *json_get(const jval *obj, const char *key);

/* True when v is a string. */
int json_is_str(const jval *v);

#endif
