/* synth/sflow.h — sFlow v5 datagrams built word by word (XDR), on the
 * byte writer of synth/ipfix.h: what the unit tests, the tshark
 * differential test and the collector benchmark send.  Lengths are
 * computed here, opaque data padded to 4 bytes, as an agent does. */
#ifndef VND_SYNTH_SFLOW_H
#define VND_SYNTH_SFLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/flowrec.h"
#include "capture/sflow.h"
#include "synth/ipfix.h"

/* Starts a datagram (empties `w`): d->agent_af 4 or 6, then
 * d->nsamples samples must follow. */
void vnd_sflow_begin(struct vnd_ipfixw *w, const struct vnd_sflow_datagram *d);

/* A flow sample with one raw packet header record (f->header,
 * f->header_length bytes): format 1 (compact: source class and index in
 * one word, 8 and 24 bits; interfaces 2 and 30 bits) or, `expanded`,
 * format 3 (each a word). */
void vnd_sflow_flow_sample(struct vnd_ipfixw *w, bool expanded, const struct vnd_sflow_flow *f);

/* A counter sample with one generic interface counters record: format 2
 * (source id in one word) or, `expanded`, 4; k->sequence is the sample's
 * sequence number. */
void vnd_sflow_counter_sample(struct vnd_ipfixw *w, bool expanded, uint32_t source_class,
                              uint32_t source_index, const struct vnd_ifcounters *k);

#endif
