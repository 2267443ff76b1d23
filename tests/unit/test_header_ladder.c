/* test_header_ladder.c — a host budget's ladder of levers on a trace
 * whose fields are all in the headers (control/header_ladder.h). */
#include "../tap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "control/header_ladder.h"

static void text_is(struct vnd_levers v, const char *want, const char *what)
{
    char *t = vnd_levers_text(v);
    CHECK_EQ_STR(t, want, "%s", what);
    free(t);
}

int main(void)
{
    /* asked: whole packets */
    const struct vnd_ladder whole = {0, 128};
    struct vnd_levers v = vnd_ladder_at(&whole, 0);
    CHECK(v.snaplen == 0 && v.flow_sampling == 1, "level 0: what was asked, whole packets");
    v = vnd_ladder_at(&whole, 1);
    CHECK(v.snaplen == 128 && v.flow_sampling == 1, "level 1: every flow, cut to 128 bytes");
    v = vnd_ladder_at(&whole, 2);
    CHECK(v.snaplen == 0 && v.flow_sampling == 4, "level 2: 1 flow in 4, whole (no cut in a group)");
    v = vnd_ladder_at(&whole, VND_LADDER_TOP + 3);
    CHECK(v.flow_sampling == 256, "past the top: 1 flow in 256");
    bool round_trip = true;
    for (int level = 0; level <= VND_LADDER_TOP; level++)
        round_trip = round_trip && vnd_ladder_level(&whole, vnd_ladder_at(&whole, level)) == level;
    CHECK(round_trip, "every level is read back from its levers");

    /* asked: Snaplen 200 (more than the headers) */
    const struct vnd_ladder snap = {200, 128};
    v = vnd_ladder_at(&snap, 0);
    CHECK(v.snaplen == 200 && v.flow_sampling == 1, "asked 200 bytes: level 0 keeps them");
    CHECK_EQ_INT(vnd_ladder_level(&snap, v), 0, "... and reads as level 0");
    v = vnd_ladder_at(&snap, 1);
    CHECK(v.snaplen == 128 && v.flow_sampling == 1, "level 1: cut to 128");
    CHECK_EQ_INT(vnd_ladder_level(&snap, v), 1, "... and reads as level 1");
    v = vnd_ladder_at(&snap, 3);
    CHECK(v.snaplen == 200 && v.flow_sampling == 8,
          "level 3: 1 flow in 8, the table server keeping the 200 bytes asked");
    CHECK_EQ_INT(vnd_ladder_level(&snap, v), 3, "... and reads as level 3");
    /* a flow sampling not of the ladder's (a state from before it) */
    CHECK_EQ_INT(vnd_ladder_level(&whole, (struct vnd_levers){0, 6}), 3,
                 "1 flow in 6: the level of the next power of two (8)");
    CHECK_EQ_INT(vnd_ladder_level(&whole, (struct vnd_levers){0, 1000}), VND_LADDER_TOP,
                 "past 256: the top");

    /* steps */
    CHECK_EQ_INT(vnd_ladder_step(0, 1), 1, "one up: cut first");
    CHECK_EQ_INT(vnd_ladder_step(0, 3), 1, "k = 3 from what was asked: the cut alone first");
    CHECK_EQ_INT(vnd_ladder_step(1, 3), 4, "the rule's k = 3 from the cut: three levels");
    CHECK_EQ_INT(vnd_ladder_step(7, 5), VND_LADDER_TOP, "never past the top");
    CHECK_EQ_INT(vnd_ladder_step(2, -1), 1, "one down from 1 flow in 4: every flow, cut");
    CHECK_EQ_INT(vnd_ladder_step(1, 0), 0, "one down from cut: what was asked");
    CHECK_EQ_INT(vnd_ladder_step(0, -1), 0, "never below what was asked");
    CHECK(vnd_ladder_kept(0) == 1 && vnd_ladder_kept(1) == 0.5 && vnd_ladder_kept(3) == 0.125,
          "the share of the copies each level costs: 1, 1/2, 1/8");

    text_is((struct vnd_levers){0, 1}, "whole packets of every flow", "text: level 0");
    text_is((struct vnd_levers){128, 1}, "the first 128 bytes of every flow", "text: cut");
    text_is((struct vnd_levers){200, 8}, "whole packets of 1 flow in 8",
            "text: a group copies whole packets");
    return tap_done();
}
