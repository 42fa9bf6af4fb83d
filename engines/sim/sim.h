/* sim.h - the simulator engine, built into the ringlab program. */
#ifndef RINGLAB_SIM_H
#define RINGLAB_SIM_H

#include <ringlab/engine.h>

const struct rl_engine_ops *rl_sim_engine(void);

#endif
