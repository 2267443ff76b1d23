/* decode_links.h — the link types fuzz_decode picks from with its first
 * input byte (index = byte % count).  test_decode writes its packets as
 * fuzz seeds with the same table. */
#ifndef VND_TESTS_FUZZ_DECODE_LINKS_H
#define VND_TESTS_FUZZ_DECODE_LINKS_H

#include "decode/packet.h"

static const int vnd_fuzz_links[] = {
    VND_DLT_EN10MB, VND_DLT_LINUX_SLL, VND_DLT_LINUX_SLL2, VND_DLT_RAW,
    VND_DLT_RAW_BSD, VND_LINKTYPE_RAW, VND_LINKTYPE_IPV4, VND_LINKTYPE_IPV6,
    VND_DLT_NULL, VND_DLT_LOOP,
};
#define VND_FUZZ_NLINKS ((int)(sizeof vnd_fuzz_links / sizeof vnd_fuzz_links[0]))

#endif
