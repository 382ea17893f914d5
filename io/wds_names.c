/* wds_names.c - webdataset's member-name and label rules (wds_names.h). */
#include "wds_names.h"

#include <string.h>

/* webdataset's base_plus_ext, the regex ^((?:.*\/|)[^.]+)[.]([^/]*)$: the
 * longest prefix P ending in '/' (without a newline: '.' does not match one)
 * or the empty one, such that the rest starts with a non-dot and its first
 * dot lies in the last component. The key is up to that dot. 0: no key. */
int vr_wds_split(const char *p, size_t n, size_t *key_len)
{
    size_t last = n; /* start of the last component */
    while (last && p[last - 1] != '/')
        last--;
    const char *dot = memchr(p + last, '.', n - last);
    if (!dot)
        return 0;
    const char *nl = memchr(p, '\n', n);
    size_t first_nl = nl ? (size_t)(nl - p) : n;
    /* candidates for the rest's start: after each '/', from the last back,
     * then 0; a dot between a candidate and the last component ends the search */
    size_t s = last;
    for (;;) {
        if (s < n && p[s] != '.' && (s == 0 || first_nl >= s)) {
            *key_len = (size_t)(dot - p);
            return 1;
        }
        if (s == 0)
            return 0;
        size_t j = s - 1; /* p[j] == '/' */
        size_t prev = 0;
        for (size_t k = j; k-- > 0;)
            if (p[k] == '/') {
                prev = k + 1;
                break;
            }
        if (memchr(p + prev, '.', j - prev))
            return 0;
        s = prev;
    }
}

/* tar_file_iterator's metadata rules: a name without '/' that starts and
 * ends with "__", or a first component matching __[^/]*__($|/) (where '$'
 * also matches before a final newline). */
int vr_wds_is_meta(const char *p, size_t n)
{
    if (n < 2 || p[0] != '_' || p[1] != '_')
        return 0;
    const char *sl = memchr(p, '/', n);
    size_t c = sl ? (size_t)(sl - p) : n;
    if (!sl && p[n - 1] == '_' && p[n - 2] == '_')
        return 1;
    if (c >= 4 && p[c - 1] == '_' && p[c - 2] == '_')
        return 1;
    return !sl && n >= 5 && p[n - 1] == '\n' && p[n - 2] == '_' && p[n - 3] == '_';
}

/* "cls": decimal, optional sign, whitespace around it, fits int64. */
int vr_wds_parse_cls(const char *b, size_t n, int64_t *v)
{
    size_t i = 0;
    while (n && strchr(" \t\r\n\v\f", b[n - 1]) && b[n - 1])
        n--;
    while (i < n && strchr(" \t\r\n\v\f", b[i]) && b[i])
        i++;
    int neg = 0;
    if (i < n && (b[i] == '+' || b[i] == '-'))
        neg = b[i++] == '-';
    if (i == n)
        return 0;
    uint64_t x = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (b[i] < '0' || b[i] > '9')
            return 0;
        unsigned d = (unsigned)(b[i] - '0');
        if (x > (lim - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    *v = neg ? (int64_t)(0 - x) : (int64_t)x;
    return 1;
}

void vr_wds_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}
