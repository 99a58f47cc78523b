// The HDF5 C library as installed by Debian's libhdf5-dev (serial build: headers under
// /usr/include/hdf5/serial, library libhdf5_serial), plus small helpers, because Swift cannot
// import HDF5's type and property-list constants (they are macros over library globals, e.g.
// H5T_NATIVE_DOUBLE expands to (H5OPEN H5T_NATIVE_DOUBLE_g)).
//
// Every helper returns a negative value on failure (HDF5's convention); the library's automatic
// error printing is switched off by satr_h5_quiet(), and the Swift caller reports the failure.
#ifndef SATR_CHDF5_SHIM_H
#define SATR_CHDF5_SHIM_H
#include <hdf5/serial/hdf5.h>
#include <stdint.h>

/// Turns off HDF5's automatic printing of error stacks (errors come back as negative results).
static inline void satr_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/// Creates (truncates) a file.
static inline hid_t satr_h5_create_file(const char *path) {
    return H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

static inline herr_t satr_h5_close_file(hid_t file) { return H5Fclose(file); }

/// Creates a group `name` under `parent` (a file or group).
static inline hid_t satr_h5_create_group(hid_t parent, const char *name) {
    return H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

static inline herr_t satr_h5_close_group(hid_t group) { return H5Gclose(group); }

/// Writes a dataset of `count` variable-length UTF-8 strings with the given shape (rank 0: one
/// scalar string), the layout h5py's string_dtype() reads back as Python str/bytes.
static inline herr_t satr_h5_write_strings(hid_t parent, const char *name, int rank, const hsize_t *dims,
                                           const char *const *values) {
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0) return -1;
    herr_t status = -1;
    if (H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0) {
        hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
        if (space >= 0) {
            hid_t set = H5Dcreate2(parent, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (set >= 0) {
                status = H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
                if (H5Dclose(set) < 0) status = -1;
            }
            H5Sclose(space);
        }
    }
    H5Tclose(type);
    return status;
}

/// The element types of satr_h5_write_numbers.
enum { SATR_H5_FLOAT64 = 0, SATR_H5_FLOAT32 = 1, SATR_H5_INT64 = 2 };

/// Writes a numeric dataset (rank 0: a scalar) of `kind` (SATR_H5_*), stored in the native type.
static inline herr_t satr_h5_write_numbers(hid_t parent, const char *name, int kind, int rank, const hsize_t *dims,
                                           const void *values) {
    hid_t type = kind == SATR_H5_FLOAT64 ? H5T_NATIVE_DOUBLE : (kind == SATR_H5_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT64);
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    if (space < 0) return -1;
    herr_t status = -1;
    hid_t set = H5Dcreate2(parent, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (set >= 0) {
        status = H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
        if (H5Dclose(set) < 0) status = -1;
    }
    H5Sclose(space);
    return status;
}

#endif
