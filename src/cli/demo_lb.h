/* demo_lb.h — `vnd demo lb`: the split-connection load balancer of paper
 * §3.5 case 3, from the model in synth/lb.h (demo_lb.c). */
#ifndef VND_CLI_DEMO_LB_H
#define VND_CLI_DEMO_LB_H

/* argv from "lb" on; returns the exit status. */
int demo_lb(int argc, char **argv);

#endif
