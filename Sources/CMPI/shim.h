// MPI's C API, as installed by Debian's libopenmpi-dev (Open MPI 4.1) under
// /usr/lib/x86_64-linux-gnu/openmpi/include (found through pkg-config "ompi-c").
//
// Open MPI defines the predefined handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...) as macros
// that take the address of library globals, e.g. `((MPI_Comm) &(ompi_mpi_comm_world))`. Swift
// cannot import such macros, so each one the Swift wrapper uses is returned by a tiny static inline
// function below. Only the opt-in MPI build (package trait "MPI") compiles this module.
#ifndef SATR_CMPI_SHIM_H
#define SATR_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm satr_mpi_comm_world(void) { return MPI_COMM_WORLD; }

static inline MPI_Datatype satr_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype satr_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype satr_mpi_int32(void) { return MPI_INT; }
static inline MPI_Datatype satr_mpi_byte(void) { return MPI_BYTE; }

static inline MPI_Op satr_mpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op satr_mpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op satr_mpi_op_min(void) { return MPI_MIN; }

static inline MPI_Errhandler satr_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }

/// The buffer size MPI_Error_string needs (MPI_MAX_ERROR_STRING is a macro of a macro).
static inline int satr_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

/// MPI_IN_PLACE, the sentinel send buffer of in-place collectives.
static inline void *satr_mpi_in_place(void) { return MPI_IN_PLACE; }

#endif
