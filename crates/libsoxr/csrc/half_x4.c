/* The block kernel with LANES = 4 (see half_lanes.c). */
#define LANES 4
#include "half_lanes.c"
