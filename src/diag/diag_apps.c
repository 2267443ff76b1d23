/* diag_apps.c — the list of diagnostic applications `vnd diag` knows. */
#include "diag/diag.h"

const struct vnd_diag_app *const vnd_diag_apps[] = {
    &vnd_diag_distribution, &vnd_diag_groups, &vnd_diag_filter, &vnd_diag_throughput,
    &vnd_diag_rtt,          &vnd_diag_delay,  &vnd_diag_loss,   &vnd_diag_correlate,
    &vnd_diag_bottleneck,   NULL,
};
