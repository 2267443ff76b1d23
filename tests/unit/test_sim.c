/* test_sim.c — the scalability model on cases small enough to check by
 * hand, plus the generator's reproducibility. */
#include "../tap.h"

#include <errno.h>
#include <stdint.h>

#include "sim/heap.h"
#include "sim/rng.h"
#include "sim/sim.h"

#define MBPS(x) ((int64_t)(x) * 1000)
#define GBPS(x) ((int64_t)(x) * 1000000)

static void test_rng(void)
{
    /* splitmix64 from state 0: the reference implementation's first outputs. */
    /* (CHECK evaluates its condition twice: draw first, compare after.) */
    uint64_t st = 0, v[3];
    for (int i = 0; i < 3; i++)
        v[i] = vnd_splitmix64(&st);
    CHECK(v[0] == 0xe220a8397b1dcdafULL, "splitmix64(0) #1");
    CHECK(v[1] == 0x6e789e6aa1b965f4ULL, "splitmix64(0) #2");
    CHECK(v[2] == 0x06c45d188009454fULL, "splitmix64(0) #3");

    /* xoshiro256** seeded with 1: pinned, so a port that changes the
     * stream (and every table) fails here first. */
    struct vnd_rng r;
    vnd_rng_seed(&r, 1);
    for (int i = 0; i < 3; i++)
        v[i] = vnd_rng_next(&r);
    CHECK(v[0] == 0xb3f2af6d0fc710c5ULL, "xoshiro256** seed 1 #1");
    CHECK(v[1] == 0x853b559647364ceaULL, "xoshiro256** seed 1 #2");
    CHECK(v[2] == 0x92f89756082a4514ULL, "xoshiro256** seed 1 #3");

    int seen[5] = {0}, out = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t x = vnd_rng_range(&r, 2, 6);
        if (x < 2 || x > 6)
            out++;
        else
            seen[x - 2]++;
    }
    CHECK_EQ_INT(out, 0, "range(2,6) stays within 2..6");
    int all = 1;
    for (int i = 0; i < 5; i++)
        all &= seen[i] > 1700 && seen[i] < 2300;
    CHECK(all, "range(2,6) is about uniform (%d %d %d %d %d of 10000)", seen[0], seen[1],
          seen[2], seen[3], seen[4]);
    int64_t seven = vnd_rng_range(&r, 7, 7);
    CHECK_EQ_INT(seven, 7, "range(7,7) is 7");
}

static int odd_only(void *ctx, int id)
{
    (void)ctx;
    return id % 2 == 1;
}

static int none_ok(void *ctx, int id)
{
    (void)ctx;
    (void)id;
    return 0;
}

static void test_heap(void)
{
    struct vnd_heap h;
    CHECK_EQ_INT(vnd_heap_init(&h, 6), 0, "heap of 6");
    CHECK_EQ_INT(vnd_heap_top(&h), 0, "all keys 0: lowest id on top");
    vnd_heap_set(&h, 0, 50);
    vnd_heap_set(&h, 1, 10);
    vnd_heap_set(&h, 2, 30);
    vnd_heap_set(&h, 3, 10);
    vnd_heap_set(&h, 4, 40);
    vnd_heap_set(&h, 5, 20);
    CHECK_EQ_INT(vnd_heap_top(&h), 1, "smallest key, lower id of a tie (1 and 3 at 10)");
    vnd_heap_set(&h, 1, 60);
    CHECK_EQ_INT(vnd_heap_top(&h), 3, "raising the top's key hands it on");
    CHECK_EQ_INT(vnd_heap_first(&h, 6, odd_only, NULL), 3, "first odd server in key order: 3");
    vnd_heap_set(&h, 3, 70);
    CHECK_EQ_INT(vnd_heap_first(&h, 6, odd_only, NULL), 5, "then 5 (key 20)");
    CHECK_EQ_INT(vnd_heap_first(&h, 6, none_ok, NULL), -1, "none fits: -1");
    vnd_heap_destroy(&h);
}

static void test_flows(void)
{
    struct vnd_rng r;
    vnd_rng_seed(&r, 9);
    struct vnd_sim_flow f[190];
    int n = 20;
    int k = vnd_sim_make_flows(VND_SIM_FLOWS_RANDOM, n, 1000, 100000, &r, f);
    CHECK_EQ_INT(k, n, "random: one flow per VM");
    int self = 0, outdeg_ok = 1, rate_ok = 1;
    for (int i = 0; i < k; i++) {
        self += f[i].src == f[i].dst;
        outdeg_ok &= f[i].src == i;
        rate_ok &= f[i].kbps >= 1000 && f[i].kbps <= 100000;
    }
    CHECK_EQ_INT(self, 0, "random: no VM sends to itself");
    CHECK(outdeg_ok, "random: VM i sends flow i");
    CHECK(rate_ok, "rates within 1..100 Mbit/s");
    k = vnd_sim_make_flows(VND_SIM_FLOWS_RING, 2, 1000, 1000, &r, f);
    CHECK(k == 2 && f[0].src == 0 && f[0].dst == 1 && f[1].src == 1 && f[1].dst == 0,
          "ring of 2: 0->1 and 1->0");
    CHECK_EQ_INT(vnd_sim_make_flows(VND_SIM_FLOWS_CHAIN, 5, 1, 1, &r, f), 4, "chain of 5: 4 flows");
    CHECK(f[3].src == 3 && f[3].dst == 4, "chain ends 3->4");
    CHECK_EQ_INT(vnd_sim_make_flows(VND_SIM_FLOWS_PAIRS, 20, 1, 1, &r, f), 190,
                 "pairs of 20: 190 flows");
    CHECK_EQ_INT(vnd_sim_max_flows(VND_SIM_FLOWS_PAIRS, 20), 190, "max_flows(pairs, 20)");
}

static void small_params(struct vnd_sim_params *p, int servers)
{
    vnd_sim_params_default(p);
    p->servers = servers;
}

/* One server, two tenants, everything co-located:
 *   A: VM0->VM1 100 Mbit/s, VM1->VM0 50 Mbit/s     B: VM0->VM1 200 Mbit/s
 * Switch 1 Gbit/s: forwards 350, 650 left; mirrors A (150) and B (200).
 * Executor 300 Mbit/s: A's 150 fits, B's 200 does not (150 left). */
static void test_one_server_two_tenants(void)
{
    struct vnd_sim_params p;
    small_params(&p, 1);
    p.switch_kbps = GBPS(1);
    p.executor_kbps = MBPS(300);
    struct vnd_sim_dc *dc;
    CHECK_EQ_INT(vnd_sim_dc_new(&p, &dc), 0, "one-server data center");
    struct vnd_sim_flow a[] = {{0, 1, MBPS(100)}, {1, 0, MBPS(50)}};
    struct vnd_sim_flow b[] = {{0, 1, MBPS(200)}};
    CHECK_EQ_INT(vnd_sim_dc_add_tenant(dc, 2, a, 2, NULL), 0, "tenant A placed");
    CHECK_EQ_INT(vnd_sim_dc_add_tenant(dc, 2, b, 1, NULL), 0, "tenant B placed");
    struct vnd_sim_server s;
    vnd_sim_dc_server(dc, 0, &s);
    CHECK(s.tx == 0 && s.rx == 0, "co-located traffic uses no link");
    CHECK_EQ_INT(s.local, MBPS(350), "350 Mbit/s between VMs on the server");
    CHECK_EQ_INT(s.fwd, MBPS(350), "the switch forwards all 350");
    CHECK_EQ_INT(s.vms, 4, "4 VMs");
    CHECK(vnd_sim_dc_link_util(dc) == 0.0, "link utilization 0");

    struct vnd_sim_diag d;
    vnd_sim_dc_diagnose(dc, NULL, 0, VND_SIM_STOP_FIRST, &d);
    CHECK_EQ_INT(d.accepted, 2, "collection: both tenants fit the switch");
    CHECK_EQ_INT(d.captured_kbps, MBPS(350), "350 Mbit/s mirrored");
    vnd_sim_dc_diagnose(dc, NULL, 1, VND_SIM_STOP_FIRST, &d);
    CHECK_EQ_INT(d.accepted, 1, "query: only A fits the executor");
    CHECK_EQ_INT(d.first_reject, 1, "B is rejected");
    CHECK_EQ_STR(vnd_sim_limit_name(d.limit), "executor", "by the executor");
    int64_t order[] = {1, 0};
    vnd_sim_dc_diagnose(dc, order, 1, VND_SIM_STOP_ALL, &d);
    CHECK(d.accepted == 1 && d.first_reject == 0, "B first: B fits (200), then A (150) does not");
    vnd_sim_dc_free(dc);
}

/* Two servers, two identical tenants of two VMs sending 2 Gbit/s to each
 * other.  Placement by sent traffic puts VM0 on server 0 and VM1 on
 * server 1 both times: each server sends 4 and receives 4 Gbit/s (40% of
 * its 10 Gbit/s NIC).  Each tenant needs 2 Gbit/s of mirroring and of
 * querying on each server. */
static struct vnd_sim_dc *two_by_two(struct vnd_sim_params *p)
{
    struct vnd_sim_dc *dc;
    if (vnd_sim_dc_new(p, &dc))
        return NULL;
    struct vnd_sim_flow f[] = {{0, 1, GBPS(2)}, {1, 0, GBPS(2)}};
    int rc1 = vnd_sim_dc_add_tenant(dc, 2, f, 2, NULL);
    int rc2 = vnd_sim_dc_add_tenant(dc, 2, f, 2, NULL);
    CHECK(rc1 == 0 && rc2 == 0, "two tenants placed");
    return dc;
}

static void test_executor_limited(void)
{
    struct vnd_sim_params p;
    small_params(&p, 2); /* switch 18, executor 3 Gbit/s */
    struct vnd_sim_dc *dc = two_by_two(&p);
    if (!dc)
        return;
    CHECK(vnd_sim_dc_vm_server(dc, 0, 0) == 0 && vnd_sim_dc_vm_server(dc, 0, 1) == 1
              && vnd_sim_dc_vm_server(dc, 1, 0) == 0 && vnd_sim_dc_vm_server(dc, 1, 1) == 1,
          "VMs spread over both servers");
    struct vnd_sim_server s;
    vnd_sim_dc_server(dc, 1, &s);
    CHECK(s.tx == GBPS(4) && s.rx == GBPS(4) && s.fwd == GBPS(4), "server 1: 4 out, 4 in, forwards 4");
    CHECK(vnd_sim_dc_link_util(dc) == 0.4, "links 40%% used");
    struct vnd_sim_diag d;
    vnd_sim_dc_diagnose(dc, NULL, 0, VND_SIM_STOP_FIRST, &d);
    CHECK(d.accepted == 2 && d.limit == VND_SIM_LIMIT_NONE, "switch: 14 spare, both captures (2+2) fit");
    vnd_sim_dc_diagnose(dc, NULL, 1, VND_SIM_STOP_FIRST, &d);
    CHECK(d.accepted == 1 && d.limit == VND_SIM_LIMIT_EXECUTOR,
          "executor: 3 Gbit/s takes one tenant's 2, not the second's");
    vnd_sim_dc_free(dc);
}

static void test_switch_limited(void)
{
    struct vnd_sim_params p;
    small_params(&p, 2);
    p.switch_kbps = GBPS(6);     /* forwards 4, 2 left to mirror */
    p.executor_kbps = GBPS(10);
    struct vnd_sim_dc *dc = two_by_two(&p);
    if (!dc)
        return;
    struct vnd_sim_diag d;
    vnd_sim_dc_diagnose(dc, NULL, 0, VND_SIM_STOP_FIRST, &d);
    CHECK(d.accepted == 1 && d.limit == VND_SIM_LIMIT_SWITCH, "collection: switch takes only one");
    vnd_sim_dc_diagnose(dc, NULL, 1, VND_SIM_STOP_FIRST, &d);
    CHECK(d.accepted == 1 && d.limit == VND_SIM_LIMIT_SWITCH, "query: the switch, not the executor");
    vnd_sim_dc_free(dc);

    /* Counting forwarding on both ends, the second tenant would make each
     * switch forward 4 out + 4 in = 8 > 6: it is not placed at all. */
    p.switch_load = VND_SIM_SWITCH_BOTH;
    CHECK_EQ_INT(vnd_sim_dc_new(&p, &dc), 0, "data center, switch-load both");
    struct vnd_sim_flow f[] = {{0, 1, GBPS(2)}, {1, 0, GBPS(2)}};
    CHECK_EQ_INT(vnd_sim_dc_add_tenant(dc, 2, f, 2, NULL), 0, "first tenant fits (forwards 4)");
    CHECK_EQ_INT(vnd_sim_dc_add_tenant(dc, 2, f, 2, NULL), ENOSPC, "second does not: ENOSPC");
    struct vnd_sim_server s;
    vnd_sim_dc_server(dc, 0, &s);
    CHECK(s.tx == GBPS(2) && s.rx == GBPS(2) && s.vms == 1 && vnd_sim_dc_tenants(dc) == 1,
          "a rejected tenant leaves nothing behind");
    vnd_sim_dc_free(dc);
}

/* Placement by sent traffic: three VMs of 30, 20, 10 Mbit/s out, then a
 * fourth VM goes where the least is sent. */
static void test_placement(void)
{
    struct vnd_sim_params p;
    small_params(&p, 3);
    struct vnd_sim_dc *dc;
    vnd_sim_dc_new(&p, &dc);
    struct vnd_sim_flow f[] = {{0, 1, MBPS(30)}, {1, 2, MBPS(20)}, {2, 0, MBPS(10)}};
    vnd_sim_dc_add_tenant(dc, 3, f, 3, NULL);
    CHECK(vnd_sim_dc_vm_server(dc, 0, 0) == 0 && vnd_sim_dc_vm_server(dc, 0, 1) == 1
              && vnd_sim_dc_vm_server(dc, 0, 2) == 2,
          "three VMs on three servers");
    struct vnd_sim_flow g[] = {{0, 1, MBPS(1)}};
    vnd_sim_dc_add_tenant(dc, 2, g, 1, NULL);
    CHECK_EQ_INT(vnd_sim_dc_vm_server(dc, 1, 0), 2, "next VM to server 2 (sends 10, the least)");
    CHECK_EQ_INT(vnd_sim_dc_vm_server(dc, 1, 1), 2, "its peer too (sends 10+1 < 20)");
    struct vnd_sim_server s;
    vnd_sim_dc_server(dc, 2, &s);
    CHECK(s.local == MBPS(1) && s.tx == MBPS(10), "co-located pair: 1 local, 10 out");

    /* A VM whose received traffic would overflow a NIC skips that server,
     * even when it sends the least. */
    p.servers = 2;
    p.nic_kbps = MBPS(100);
    struct vnd_sim_dc *dc2;
    vnd_sim_dc_new(&p, &dc2);
    struct vnd_sim_flow h[] = {{0, 1, MBPS(60)}, {1, 0, MBPS(10)}};
    vnd_sim_dc_add_tenant(dc2, 2, h, 2, NULL); /* server 0 sends 60, server 1 sends 10, receives 60 */
    struct vnd_sim_flow k[] = {{1, 0, MBPS(50)}};
    CHECK_EQ_INT(vnd_sim_dc_add_tenant(dc2, 2, k, 1, NULL), 0, "second tenant placed");
    CHECK_EQ_INT(vnd_sim_dc_vm_server(dc2, 1, 0), 0,
                 "its receiver skips server 1 (would receive 60+50 > 100) for server 0");
    CHECK_EQ_INT(vnd_sim_dc_vm_server(dc2, 1, 1), 1, "its sender goes to server 1 (sends least)");
    struct vnd_sim_server s1;
    vnd_sim_dc_server(dc2, 1, &s1);
    CHECK(s1.tx == MBPS(60) && s1.rx == MBPS(60), "server 1: 60 out, 60 in");
    vnd_sim_dc_free(dc2);
    vnd_sim_dc_free(dc);
}

static int same_result(const struct vnd_sim_result *a, const struct vnd_sim_result *b)
{
    return a->tenants == b->tenants && a->vms == b->vms && a->flows == b->flows
           && a->link_util == b->link_util && a->collected == b->collected
           && a->queried == b->queried && a->queried_kbps == b->queried_kbps
           && a->full == b->full && a->query_limit == b->query_limit;
}

static void test_run(void)
{
    struct vnd_sim_params p;
    small_params(&p, 500);
    struct vnd_sim_result r1, r2, r3;
    CHECK_EQ_INT(vnd_sim_run(&p, 0.5, &r1), 0, "500 servers at 50%%");
    CHECK_EQ_INT(vnd_sim_run(&p, 0.5, &r2), 0, "again, same seed");
    CHECK(same_result(&r1, &r2), "same seed, same result");
    p.seed = 2;
    CHECK_EQ_INT(vnd_sim_run(&p, 0.5, &r3), 0, "seed 2");
    CHECK(r3.tenants != r1.tenants || r3.vms != r1.vms || r3.queried != r1.queried,
          "another seed, other tenants (%lld vs %lld)", (long long)r3.tenants,
          (long long)r1.tenants);

    /* 10% of 500 x 10 Gbit/s = 500 Gbit/s over ~0.556 Gbit/s per tenant
     * (11 VMs x one flow x 50.5 Mbit/s): about 900 tenants. */
    p.seed = 1;
    struct vnd_sim_result r;
    vnd_sim_run(&p, 0.1, &r);
    CHECK(r.tenants > 850 && r.tenants < 950, "10%%: ~900 tenants (%lld)", (long long)r.tenants);
    CHECK(r.link_util >= 0.1 && r.link_util < 0.101, "threshold reached, barely passed");
    CHECK(r.collected == r.tenants && r.queried == r.tenants, "10%%: everyone diagnosed");
    CHECK(!r.full, "threshold, not full");
    /* At 50% a server sends ~5 Gbit/s; its executor takes 3: ~60% at best. */
    CHECK(r1.queried * 100 > r1.tenants * 50 && r1.queried * 100 <= r1.tenants * 60,
          "50%%: 50-60%% queried (%lld of %lld)", (long long)r1.queried, (long long)r1.tenants);
    CHECK(r1.collected == r1.tenants, "50%%: all captured");
    CHECK_EQ_STR(vnd_sim_limit_name(r1.query_limit), "executor", "50%%: the executor limits");

    CHECK_EQ_INT(vnd_sim_run(&p, 1.5, &r), EINVAL, "utilization above 1 is refused");
    p.vms_min = 1;
    const char *why = NULL;
    CHECK(vnd_sim_params_check(&p, &why) == EINVAL && why, "one-VM tenants are refused: %s",
          why ? why : "");
}

int main(void)
{
    test_rng();
    test_heap();
    test_flows();
    test_one_server_two_tenants();
    test_executor_limited();
    test_switch_limited();
    test_placement();
    test_run();
    return tap_done();
}
