/* test_pktq.c — how far the packet queue says a live capture is complete
 * (vnd_pktq_complete, what `loss` judges by): only up to what the parser
 * has taken, the least of the watched sources, never back. */
#include "../tap.h"

#include "capture/pktq.h"

#define S 1000000000LL   /* ns */

/* a packet record, handed over */
static void put_one(struct vnd_pktq_writer *w, int64_t ts_ns)
{
    struct vnd_pktrec h = {.ts_ns = ts_ns, .caplen = 60, .len = 60};
    unsigned char *d = vnd_pktq_append(w, &h);
    CHECK(d != NULL, "the queue takes a record");
    vnd_pktq_hand_over(w);
}

/* the parser's turn: takes and releases every batch; returns how many */
static int drain(struct vnd_pktq *q)
{
    int n = 0;
    struct vnd_batch *b;
    while ((b = vnd_pktq_take(q, 0))) {
        vnd_pktq_release(q, b);
        n++;
    }
    return n;
}

int main(void)
{
    struct vnd_pktq *q = vnd_pktq_new(4, 4096);
    struct vnd_pktq_writer a = {.q = q}, b = {.q = q};

    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 0, 0, "no live capture: unknown (0)");

    vnd_pktq_watch(&a, 100 * S);
    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 100, 1e-9, "a capture is complete from when it starts");

    /* a batch handed over before the source says 200: not yet parsed */
    put_one(&a, 150 * S);
    vnd_pktq_complete_to(&a, 200 * S);
    struct vnd_batch *got = vnd_pktq_take(q, 0);
    CHECK(got != NULL, "the parser takes the batch");
    CHECK_NEAR(vnd_pktq_complete(q), 100, 1e-9,
               "... and while it parses it the capture is complete only to 100");
    vnd_pktq_release(q, got);
    CHECK_EQ_INT(drain(q), 0, "nothing else waits");
    CHECK_NEAR(vnd_pktq_complete(q), 200, 1e-9, "parsed: complete to 200");

    /* a second capture, behind: the least of the two */
    vnd_pktq_watch(&b, 250 * S);
    vnd_pktq_complete_to(&a, 300 * S);
    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 250, 1e-9, "two captures: the one behind (250)");
    vnd_pktq_complete_to(&b, 400 * S);
    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 300, 1e-9, "then the other (300)");

    /* a time that goes back is not taken; nor is the queue's */
    vnd_pktq_complete_to(&a, 50 * S);
    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 300, 1e-9, "a source's time never goes back");
    vnd_pktq_unwatch(&a);
    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 400, 1e-9, "a stopped capture no longer holds it back");
    vnd_pktq_unwatch(&b);
    vnd_pktq_complete_to(&b, 900 * S);
    drain(q);
    CHECK_NEAR(vnd_pktq_complete(q), 400, 1e-9,
               "with none watched it stays where the last one left it");

    vnd_pktq_free(q);
    return tap_done();
}
