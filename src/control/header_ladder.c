/* header_ladder.c — a host budget's ladder of levers (header_ladder.h). */
#include "control/header_ladder.h"

#include <stdio.h>

#include "util/util.h"

static int clamp(int level)
{
    return level < 0 ? 0 : level > VND_LADDER_TOP ? VND_LADDER_TOP : level;
}

int vnd_ladder_level(const struct vnd_ladder *l, struct vnd_levers now)
{
    if (now.flow_sampling > 1) {
        int level = 2;
        while (level < VND_LADDER_TOP && (1 << level) < now.flow_sampling)
            level++;
        return level;
    }
    return now.snaplen == l->header_bytes && l->snaplen_asked != l->header_bytes;
}

struct vnd_levers vnd_ladder_at(const struct vnd_ladder *l, int level)
{
    level = clamp(level);
    return (struct vnd_levers){level == 1 ? l->header_bytes : l->snaplen_asked,
                               level >= 2 ? 1 << level : 1};
}

int vnd_ladder_step(int level, int shift)
{
    if (level == 0 && shift > 0)
        return 1;                   /* the cut alone first: it loses nothing */
    return clamp(shift > 0 ? level + shift : level - 1);
}

double vnd_ladder_kept(int level)
{
    return 1.0 / (1 << clamp(level));
}

char *vnd_levers_text(struct vnd_levers v)
{
    char bytes[48], flows[32];
    if (v.snaplen > 0 && v.flow_sampling <= 1)
        snprintf(bytes, sizeof bytes, "the first %d bytes", v.snaplen);
    else
        snprintf(bytes, sizeof bytes, "whole packets");
    if (v.flow_sampling > 1)
        snprintf(flows, sizeof flows, "1 flow in %d", v.flow_sampling);
    else
        snprintf(flows, sizeof flows, "every flow");
    return vnd_strdup_printf("%s of %s", bytes, flows);
}
