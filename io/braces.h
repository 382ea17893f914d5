/* braces.h - bash's brace expansion, for shard patterns such as
 * "/data/laion/{00000..09999}.tar".
 *
 * What bash does, for the forms it has: comma lists {a,b,c} (empty items
 * too: "x.tar{,.gz}"); numeric ranges {x..y} and {x..y..step} (ends may carry
 * a sign; the step's sign is ignored and 0 counts as 1), zero-padded as bash
 * pads them: when an end starts with 0 (after a '-') and has more than one
 * digit, every term is as wide as the longer end, sign included; several
 * braces in one pattern give their product, the leftmost varying slowest.
 *
 * Refused, where bash would leave the text alone or expand further: a brace
 * inside a brace, a brace that is neither a list nor a numeric range ("{a}",
 * "{}", letter ranges "{a..e}"), an unbalanced '{' or '}', range ends beyond
 * +-10^18, and patterns of more than max_count expansions (counted before
 * any product can overflow). There is no quoting or escaping: a pattern is
 * not shell syntax.
 *
 * The expansions are made on demand: memory is the pattern's, whatever the
 * count.
 */
#ifndef VR_BRACES_H
#define VR_BRACES_H

#include <stddef.h>

#include "../runtime/status.h"

typedef struct vr_braces vr_braces;

/* VR_ERR_INPUT (the message quotes the pattern and says what is wrong) or
 * VR_ERR_NOMEM. */
vr_status vr_braces_parse(vr_braces **b, const char *pattern, size_t max_count);

/* How many strings the pattern expands to (1 without braces). */
size_t vr_braces_count(const vr_braces *b);

/* Expansion i (i < count) in bash's order into out; VR_ERR_INPUT when it
 * needs more than cap bytes with its NUL. */
vr_status vr_braces_get(const vr_braces *b, size_t i, char *out, size_t cap);

void vr_braces_free(vr_braces *b);

/* Whether s holds a '{' or a '}': a pattern, for vr_braces_parse to judge. */
int vr_braces_any(const char *s);

#endif
