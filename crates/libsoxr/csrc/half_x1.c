/* The block kernel with LANES = 1 (see half_lanes.c). */
#define LANES 1
#include "half_lanes.c"
