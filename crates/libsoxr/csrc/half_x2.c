/* The block kernel with LANES = 2 (see half_lanes.c). */
#define LANES 2
#include "half_lanes.c"
