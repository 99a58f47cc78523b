// MuJoCo's C API, as installed by Debian's libmujoco-dev (MuJoCo 2.2.2) under /usr/include/mujoco.
#ifndef SATR_CMUJOCO_SHIM_H
#define SATR_CMUJOCO_SHIM_H
#include <mujoco/mujoco.h>
#endif
