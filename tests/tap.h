/* tap.h — the smallest test harness that is still honest.
 *
 * Each CHECK prints "ok N - what" or "not ok N - what (file:line)" and the
 * program exits non-zero when any check failed.  tests/run.sh adds the
 * lines of every test program up into one "N passed, N failed" line. */
#ifndef VND_TESTS_TAP_H
#define VND_TESTS_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define CHECK(cond, ...) do {                                            \
        int c_ = !!(cond);      /* evaluated once */                     \
        tap_n++;                                                         \
        if (c_) { printf("ok %d - ", tap_n); }                           \
        else { tap_failed++; printf("not ok %d - ", tap_n); }            \
        printf(__VA_ARGS__);                                             \
        if (!c_) printf("  (%s:%d: %s)", __FILE__, __LINE__, #cond);     \
        printf("\n");                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b, ...) do {                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);              \
        CHECK(a_ == b_, __VA_ARGS__);                                    \
        if (a_ != b_) printf("#   got %lld, want %lld\n", a_, b_);       \
    } while (0)

#define CHECK_EQ_STR(a, b, ...) do {                                     \
        const char *a_ = (a), *b_ = (b);                                 \
        int eq_ = a_ && b_ && strcmp(a_, b_) == 0;                       \
        CHECK(eq_, __VA_ARGS__);                                         \
        if (!eq_) printf("#   got \"%s\", want \"%s\"\n",                \
                         a_ ? a_ : "(null)", b_ ? b_ : "(null)");        \
    } while (0)

#define CHECK_NEAR(a, b, tol, ...) do {                                 \
        double a_ = (double)(a), b_ = (double)(b);                       \
        int near_ = a_ - b_ <= (tol) && b_ - a_ <= (tol);                \
        CHECK(near_, __VA_ARGS__);                                       \
        if (!near_) printf("#   got %.17g, want %.17g\n", a_, b_);      \
    } while (0)

static inline int tap_done(void)
{
    printf("# %d checks, %d failed\n", tap_n, tap_failed);
    return tap_failed ? 1 : 0;
}

#endif
