// Host stand-in for the CUDA header of the same name: the half/bfloat16 types live in simt.hpp.
#pragma once
#include "../simt.hpp"
