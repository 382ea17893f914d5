/* braces.c - bash's brace expansion (braces.h), made on demand. */
#include "braces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define END_MAX 1000000000000000000LL /* range ends and steps: |x| <= 10^18 */

typedef struct {
    size_t lit, lit_len;  /* the literal text before this brace, in text */
    int range;            /* 0: a comma list, 1: a numeric range */
    size_t n;             /* its terms */
    size_t first;         /* list: its items are items[first, first + n) */
    long long start, step; /* range: term j is start + j * step */
    int width;            /* range: zero-padded to this many characters; 0: not padded */
    size_t stride;        /* expansions per step of this brace's term */
} vr_brace;

typedef struct {
    size_t off, len; /* in text */
} vr_brace_item;

struct vr_braces {
    char *text;           /* the pattern */
    vr_brace *br;         /* (nbr) the braces, left to right */
    size_t nbr;
    size_t tail;          /* the literal text after the last brace */
    vr_brace_item *items; /* (nitems) the comma lists' items */
    size_t nitems;
    size_t count;
};

int vr_braces_any(const char *s) { return strchr(s, '{') || strchr(s, '}'); }

/* [+-]?[0-9]+ in [s, e), at most END_MAX; bash's zero-padding flag. */
static int parse_end(const char *s, const char *e, long long *v, int *zero)
{
    const char *d = s + (s < e && (*s == '+' || *s == '-'));
    if (d == e)
        return 0;
    *zero = (*s == '0' && e - s >= 2) || (*s == '-' && e - s >= 3 && s[1] == '0');
    long long x = 0;
    for (const char *c = d; c < e; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        if (x > (END_MAX - (*c - '0')) / 10)
            return -1;
        x = x * 10 + (*c - '0');
    }
    *v = *s == '-' ? -x : x;
    return 1;
}

/* x..y or x..y..step in [s, e): 1 a range, 0 not one, -1 an end too large */
static int parse_range(vr_brace *b, const char *s, const char *e)
{
    const char *d1 = NULL, *d2 = NULL;
    for (const char *c = s; !d2 && c + 1 < e; c++)
        if (c[0] == '.' && c[1] == '.') {
            if (!d1)
                d1 = c++;
            else
                d2 = c;
        }
    if (!d1)
        return 0;
    long long x, y, step = 1;
    int zx, zy, zs, r;
    const char *ye = d2 ? d2 : e;
    if ((r = parse_end(s, d1, &x, &zx)) <= 0 || (r = parse_end(d1 + 2, ye, &y, &zy)) <= 0 ||
        (d2 && (r = parse_end(d2 + 2, e, &step, &zs)) <= 0))
        return r;
    step = step < 0 ? -step : step;
    if (step == 0)
        step = 1;
    unsigned long long span = (unsigned long long)(x < y ? y - x : x - y);
    b->range = 1;
    b->n = (size_t)(span / (unsigned long long)step) + 1;
    b->start = x;
    b->step = x <= y ? step : -step;
    size_t lx = (size_t)(d1 - s), ly = (size_t)(ye - d1 - 2);
    b->width = zx || zy ? (int)(lx > ly ? lx : ly) : 0;
    return 1;
}

static vr_status refuse(const char *pattern, size_t at, const char *what)
{
    return vr_fail(VR_ERR_INPUT, "shard pattern '%s': %s at character %zu; a pattern takes "
                   "comma lists {a,b} and ranges {0000..0099} (bash's brace expansion, not "
                   "nested)", pattern, what, at + 1);
}

vr_status vr_braces_parse(vr_braces **out, const char *pattern, size_t max_count)
{
    *out = NULL;
    vr_braces *b = calloc(1, sizeof *b);
    size_t len = strlen(pattern), nb = 0, ncomma = 0;
    for (size_t i = 0; i < len; i++) {
        nb += pattern[i] == '{';
        ncomma += pattern[i] == ',';
    }
    if (!b || !(b->text = strdup(pattern)) || !(b->br = calloc(nb + 1, sizeof *b->br)) ||
        !(b->items = calloc(ncomma + nb + 1, sizeof *b->items))) {
        vr_braces_free(b);
        return vr_fail(VR_ERR_NOMEM, "out of memory expanding '%.200s'", pattern);
    }
    vr_status st = VR_OK;
    size_t lit = 0, i = 0;
    b->count = 1;
    while (!st && i < len) {
        if (pattern[i] == '}') {
            st = refuse(pattern, i, "a '}' that closes no '{'");
            break;
        }
        if (pattern[i] != '{') {
            i++;
            continue;
        }
        size_t open = i, close = i + 1;
        while (close < len && pattern[close] != '}' && pattern[close] != '{')
            close++;
        if (close == len) {
            st = refuse(pattern, open, "a '{' that is never closed");
            break;
        }
        if (pattern[close] == '{') {
            st = refuse(pattern, close, "a brace inside a brace");
            break;
        }
        vr_brace *br = &b->br[b->nbr];
        br->lit = lit;
        br->lit_len = open - lit;
        const char *s = pattern + open + 1, *e = pattern + close;
        if (memchr(s, ',', (size_t)(e - s))) {
            br->first = b->nitems;
            for (const char *c = s;; c++)
                if (c == e || *c == ',') {
                    b->items[b->nitems++] = (vr_brace_item){(size_t)(s - pattern),
                                                            (size_t)(c - s)};
                    br->n++;
                    if (c == e)
                        break;
                    s = c + 1;
                }
        } else {
            int r = parse_range(br, s, e);
            if (r < 0)
                st = refuse(pattern, open, "a range end beyond 10^18");
            else if (r == 0)
                st = refuse(pattern, open, "a brace that is neither a comma list nor a "
                            "numeric range");
            if (st)
                break;
        }
        if (br->n > max_count / b->count) { /* count * n > max_count, unmultiplied */
            st = vr_fail(VR_ERR_INPUT, "shard pattern '%s' expands to more than %zu shards; "
                         "split the run, or list the shards in a file", pattern, max_count);
            break;
        }
        b->count *= br->n;
        b->nbr++;
        lit = i = close + 1;
    }
    if (st) {
        vr_braces_free(b);
        return st;
    }
    b->tail = lit;
    size_t stride = 1;
    for (size_t k = b->nbr; k-- > 0;) {
        b->br[k].stride = stride;
        stride *= b->br[k].n;
    }
    *out = b;
    return VR_OK;
}

size_t vr_braces_count(const vr_braces *b) { return b->count; }

static int put(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
    if (n >= cap - *at)
        return 0;
    memcpy(out + *at, s, n);
    *at += n;
    return 1;
}

vr_status vr_braces_get(const vr_braces *b, size_t i, char *out, size_t cap)
{
    size_t at = 0;
    char num[64];
    if (i >= b->count || cap == 0)
        return vr_fail(VR_ERR_INTERNAL, "'%s': expansion %zu of %zu", b->text, i, b->count);
    for (size_t k = 0; k < b->nbr; k++) {
        const vr_brace *br = &b->br[k];
        size_t j = i / br->stride % br->n;
        const char *s;
        size_t n;
        if (!put(out, cap, &at, b->text + br->lit, br->lit_len))
            goto long_;
        if (br->range) {
            /* printf's %0*lld, for any width: the sign, zeros, the digits */
            long long v = br->start + (long long)j * br->step;
            unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            int nd = snprintf(num, sizeof num, "%llu", a);
            size_t used = (size_t)nd + (v < 0);
            if ((v < 0 && !put(out, cap, &at, "-", 1)))
                goto long_;
            for (size_t z = used; z < (size_t)br->width; z++)
                if (!put(out, cap, &at, "0", 1))
                    goto long_;
            s = num;
            n = (size_t)nd;
        } else {
            s = b->text + b->items[br->first + j].off;
            n = b->items[br->first + j].len;
        }
        if (!put(out, cap, &at, s, n))
            goto long_;
    }
    if (!put(out, cap, &at, b->text + b->tail, strlen(b->text + b->tail)))
        goto long_;
    out[at] = '\0';
    return VR_OK;
long_:
    return vr_fail(VR_ERR_INPUT, "shard pattern '%.200s': expansion %zu is longer than %zu "
                   "bytes", b->text, i + 1, cap - 1);
}

void vr_braces_free(vr_braces *b)
{
    if (!b)
        return;
    free(b->text);
    free(b->br);
    free(b->items);
    free(b);
}
