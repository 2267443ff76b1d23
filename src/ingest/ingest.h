/* ingest.h — the trace parser: packets in, rows of trace tables out.
 *
 * This is the paper's trace parser + the writing half of its query
 * executor, shared by `vnd parse` (capture files) and vnd-tabled (live
 * mirror ports).  A caller registers its traces, hands packets in one at a
 * time, and flushes: each flush is one transaction holding the batch's rows
 * and the vnd_meta counters that describe them, so the store never holds a
 * half batch and the counters never disagree with the rows.
 *
 * Threads: rows are written to SQLite by a writer thread the ingest owns,
 * on the store's connection, which is not thread-safe (opened without
 * SQLite's mutexes: they cost 10% of ingest).  So the store may be used by
 * anyone else only after vnd_ingest_flush (or finish/drop) returned, before
 * the next vnd_ingest_packet; and all vnd_ingest_* calls come from one
 * thread at a time.
 *
 * Per trace: 1-in-N sampling (count: every Nth packet, before decoding;
 * hash: by packet ID, after decoding — ingest/sampling.h) and a snap
 * length (bytes kept per packet, the cheapest lever on capture cost).
 * The rate may change while the trace runs (vnd_ingest_set_sampling);
 * each (trace, table) has its history in vnd_sampling (store.h). */
#ifndef VND_INGEST_INGEST_H
#define VND_INGEST_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ingest/sampling.h"
#include "lang/parseconf.h"
#include "store/store.h"

struct vnd_ingest;

struct vnd_trace_opts {
    const char *id;          /* trace id (required) */
    int linktype;            /* VND_DLT_* of the packets handed in */
    uint32_t sampling;       /* keep 1 in N; 0 or 1: all */
    enum vnd_sample_method sampling_method;   /* count (default) or hash */
    uint32_t snaplen;        /* bytes kept per packet; 0: all */
    bool replace;            /* parse it again: its old rows, in every table,
                              * go in the transaction of its first new row */
    bool append;             /* add rows to existing tables of the trace */
    /* The parse configuration of this trace (must outlive the trace);
     * NULL: the one given to vnd_ingest_new.  A table server gives each
     * trace its own. */
    const struct vnd_parse_conf *conf;
    /* The trace's flow pattern, applied here (NULL: none).  A mirror
     * trace's pattern is the switch's rule; a sampled source (sFlow) sees
     * every port's samples, so the pattern is checked on each decoded
     * packet or record, and one outside it is not counted at all. */
    const struct vnd_filter *match;
    /* The source sampled already (sFlow, IPFIX): `sampling` is what
     * vnd_meta records, not applied again. */
    bool presampled;
    /* New tables keep their rows in blocks (store/packed.h): a collector's
     * flow records, at rates SQLite cannot insert row by row. */
    bool packed;
    /* vnd_meta description (may be NULL) */
    const char *source, *tenant, *cap_point, *direction, *pattern;
    /* Mirror with flow sampling: the switch copied 1 flow in this many
     * (0 or 1: every flow); recorded in vnd_meta, not applied here. */
    double flow_sampling;
    /* The switch cuts the copies to `snaplen` (a mirror trace of a table
     * server: OVS's output max_len), so a frame of at most the largest
     * snaplen the trace has had is decoded with vnd_decode_cut: its wire
     * length is the IP header's, not the cut frame's. */
    bool cut_in_switch;
};

struct vnd_trace_stats {
    uint64_t seen;           /* packets handed in */
    uint64_t sampled_out;    /* skipped by sampling */
    uint64_t anomalies;      /* decoded with VND_PKT_* anomalies (kept) */
    uint64_t dropped_kernel; /* as reported by the capture (pcap_stats) */
    uint64_t dropped_queue;  /* dropped by the caller's own queues */
    uint64_t malformed;      /* datagrams of its collector that could not be read */
    uint64_t matched;        /* matched at least one rule's filter */
    uint64_t stored;         /* rows written, all tables */
    uint64_t store_lost;     /* packets whose rows were lost: the store was
                              * down longer than their batch could be held */
    int64_t first_ns, last_ns;
};

/* A parser writing into `st` with the rules of `conf` (both must outlive
 * it; `conf` may be NULL when every trace brings its own).  Batches close after `batch_packets` packets or `batch_seconds` of
 * wall time, whichever is first (see vnd_ingest_batch_due). */
struct vnd_ingest *vnd_ingest_new(struct vnd_store *st,
                                  const struct vnd_parse_conf *conf,
                                  uint32_t batch_packets, double batch_seconds);

/* Registers a trace: creates the tables its rules name, its rowid slots
 * and its vnd_meta rows (status "ingesting"; with replace, the old ones
 * stay until its first packet), and commits them.  Returns the trace's
 * index (>= 0), or -1 and *err: a rule's table exists with other columns,
 * the trace is already stored (without replace/append), no rule covers it.
 * One exception to the commit: a replace that changes the columns of a
 * table only this trace has rows in drops that table now and leaves the
 * transaction open, to commit with the next batch. */
int vnd_ingest_add_trace(struct vnd_ingest *ing, const struct vnd_trace_opts *o,
                         char **err);

/* One captured packet of trace `t`.  Never fails: a store error is kept
 * and returned by the next flush, and later packets are not stored. */
void vnd_ingest_packet(struct vnd_ingest *ing, int t, int64_t ts_ns,
                       const uint8_t *data, uint32_t caplen, uint32_t len);

/* A record whose fields are known without decoding (a flow record of an
 * IPFIX collector, an sFlow flow sample's decoded fields): `fields` has
 * them set (vnd_pkt_set_*, the present mask); the frame fields
 * timestamp, timestamp_ns and trace are set here.  The trace's pattern,
 * its sampling (unless presampled) and its rules apply as to a packet.
 * `fields` is the caller's and may be changed. */
void vnd_ingest_record(struct vnd_ingest *ing, int t, int64_t ts_ns, struct vnd_pkt *fields);

/* Changes trace t's table-server sampling to 1 in n (0: 1) by `method`,
 * at the next batch boundary (now when no batch is open).  The first
 * packet handed in after that (past the trace's pattern, kept or not) is
 * the first under the new rate: its timestamp is the from_ts of the
 * vnd_sampling row written, with `reason`, in the transaction of the
 * first row kept under it (none kept: no row).  A count sampler starts
 * again (that packet is kept).  A second change before any packet
 * replaces the first.  0, or EINVAL: a presampled trace (sFlow, IPFIX:
 * the switch sampled). */
int vnd_ingest_set_sampling(struct vnd_ingest *ing, int t, uint32_t n,
                            enum vnd_sample_method method, const char *reason);

/* What the switch does to trace t's packets: `sampling`, the 1-in-N of a
 * presampled trace's agent (sFlow); `flow_sampling`, the 1 flow in N a
 * mirror trace's select group copies (a real: control/ovs.h's effective
 * share); `snaplen`, the bytes of each packet a mirror trace's rule copies
 * (0: whole packets).  0 (snaplen: -1) leaves one as it is. */
struct vnd_switch_rates {
    uint32_t sampling;
    double flow_sampling;
    int64_t snaplen;
};

/* The switch's rates of trace t changed at `from_ns` (capture time).
 * What the switch does, recorded here (and a snaplen applied to packets
 * still queued): a vnd_sampling row from `from_ns`, with `reason`, is
 * written with the next row kept, or at the next flush when none came
 * (a flow sample may hold no flow); vnd_meta says the rates from now.  0,
 * or EINVAL: a rate the trace has not. */
int vnd_ingest_switch_rates(struct vnd_ingest *ing, int t, const struct vnd_switch_rates *r,
                            int64_t from_ns, const char *reason);

/* Trace t's sampling now (a change not yet applied included). */
uint32_t vnd_ingest_sampling(const struct vnd_ingest *ing, int t,
                             enum vnd_sample_method *method);

/* Drop counts reported by the capture for trace `t` (absolute values). */
void vnd_ingest_set_drops(struct vnd_ingest *ing, int t, uint64_t kernel,
                          uint64_t queue);
/* Malformed datagrams of trace `t`'s collector while it ran (absolute). */
void vnd_ingest_set_malformed(struct vnd_ingest *ing, int t, uint64_t malformed);

/* True when the open batch should be flushed now.  Cheap enough to call
 * after every packet (reads the clock only every 256 packets). */
bool vnd_ingest_batch_due(const struct vnd_ingest *ing);

/* True when the open batch is older than the batch time: for a live
 * capture between bursts (always reads the clock). */
bool vnd_ingest_batch_expired(const struct vnd_ingest *ing);

/* Commits the open batch and every trace's counters.  Returns 0 or an
 * errno with *err (the batch is rolled back; earlier batches stay).
 *
 * A store that does not answer (PostgreSQL restarting: the provider's
 * commit says ENOTCONN, store.h) is no error that sticks: the flush
 * returns ENOTCONN and the batch stays open, held by the provider, taking
 * more packets; a later flush sends it whole once the store answers.  A
 * batch that reaches 4 batches' packets (VND_STORE_HOLD in the
 * environment: another number) while held, or that the provider could
 * not hold whole (ECONNABORTED), is given up: its rows count as
 * store_lost (vnd_meta, per table; the stats, packets per trace), never
 * as stored, and the next batch starts. */
int vnd_ingest_flush(struct vnd_ingest *ing, char **err);

/* The time (Unix seconds, capture clock) before which every packet of a
 * live capture has been handed to this ingest: the vnd_meta rows the
 * following flushes write say their tables are whole up to it (`updated`,
 * what `loss` judges by).  0, and without a call: the time of the write
 * (a file read after the fact is whole when it is stored). */
void vnd_ingest_set_complete(struct vnd_ingest *ing, double wall);

/* 0 while the store answers; else the wall-clock time (Unix seconds)
 * since which it has not, and in *msg (may be NULL) its last error. */
double vnd_ingest_store_down(const struct vnd_ingest *ing, const char **msg);

/* Packets in the open batch (held, while the store does not answer). */
uint32_t vnd_ingest_pending(const struct vnd_ingest *ing);

/* Breaks of the store's connection healed within a commit (the store
 * never seemed down: the batch was sent again whole) since the last
 * call, and in *broke_at when the last one began (Unix seconds). */
uint64_t vnd_ingest_take_healed(struct vnd_ingest *ing, double *broke_at);

/* Packets of batches given up since the last call. */
uint64_t vnd_ingest_take_lost(struct vnd_ingest *ing);

/* Closes the open batch without waiting: the writer thread commits it
 * (rows and counters) after its rows, while the caller goes on parsing.
 * A failure is returned by the next vnd_ingest_flush/finish/drop.  The
 * store must not be used by the caller until such a synchronous call.
 *
 * A store that did not answer such a commit (ENOTCONN) holds its batch,
 * and the rows handed in since join it; the next vnd_ingest_flush_async
 * then is a vnd_ingest_flush (it waits for the rows, sends the batch
 * again), and returns what that returns: ENOTCONN while the store still
 * does not answer (flush again at the caller's pace, as above), 0 once it
 * does.  Otherwise it returns 0. */
int vnd_ingest_flush_async(struct vnd_ingest *ing, char **err);

/* What trace t has in the store for sure: its packets handed in and rows
 * stored as the last batch committed (those since are held or not yet
 * sent).  Only after a synchronous flush (which waits for the writer). */
void vnd_ingest_committed(const struct vnd_ingest *ing, int t, uint64_t *seen,
                          uint64_t *stored);

/* Flushes, then marks trace `t` finished: status "complete", "truncated"
 * or "failed", with an optional message for vnd_meta. */
int vnd_ingest_finish_trace(struct vnd_ingest *ing, int t, const char *status,
                            const char *message, char **err);

/* Flushes, then removes trace `t`: its rows in every table (tables no
 * other trace has rows in are dropped) and its vnd_meta rows.  The index
 * is not reused. */
int vnd_ingest_drop_trace(struct vnd_ingest *ing, int t, char **err);

const struct vnd_trace_stats *vnd_ingest_stats(const struct vnd_ingest *ing, int t);

/* Number of trace slots (some may have been dropped: stats NULL). */
int vnd_ingest_ntraces(const struct vnd_ingest *ing);

/* Flushes nothing: call vnd_ingest_flush or finish first. */
void vnd_ingest_free(struct vnd_ingest *ing);

#endif
