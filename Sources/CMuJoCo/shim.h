// MuJoCo's C API, as installed by Debian's libmujoco-dev (MuJoCo 2.2.2) under /usr/include/mujoco,
// plus a few small C helpers that Swift cannot express itself:
//
// - Error recovery. MuJoCo reports fatal errors through `mju_user_error`; by default it prints and
//   calls exit(). A handler must not return into MuJoCo, so `satr_mj_error_handler` copies the message
//   and longjmps back to the innermost `satr_guarded_*` call on the same thread, which returns -1. The
//   caller (Swift) turns that into a Swift error. Without a guard on the thread the handler prints the
//   message and aborts (a MuJoCo error outside a guard is a programming error in this package).
//   Every Swift module that imports this header gets its own copy of these inline functions and
//   their thread-local slots, so install the handlers and call the guarded functions from one
//   module only (Environments does both).
// - In-memory XML loading through a virtual file system (mjVFS is 2 MB of fixed arrays, which Swift
//   should not import as tuples).
// - Reading the instability warning counters of mjData.
#ifndef SATR_CMUJOCO_SHIM_H
#define SATR_CMUJOCO_SHIM_H
#include <mujoco/mujoco.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SATR_MJ_MESSAGE_SIZE 1024

typedef struct satr_mj_guard {
    jmp_buf jump;
    char message[SATR_MJ_MESSAGE_SIZE];
} satr_mj_guard;

/// The slot holding the innermost active guard of this thread (NULL outside guarded calls).
/// (Function-local statics: Swift's Clang importer emits the bodies of inline functions, with
/// their local statics, but not file-scope variables of a header.)
static inline satr_mj_guard **satr_mj_guard_slot(void) {
    static _Thread_local satr_mj_guard *slot = NULL;
    return &slot;
}
#define satr_mj_current_guard (*satr_mj_guard_slot())

/// Installed as `mju_user_error`: jumps back to the guarded call on this thread.
static inline void satr_mj_error_handler(const char *message) {
    satr_mj_guard *guard = satr_mj_current_guard;
    if (guard == NULL) {
        fprintf(stderr, "MuJoCo error outside a guarded call: %s\n", message ? message : "(null)");
        abort();
    }
    snprintf(guard->message, SATR_MJ_MESSAGE_SIZE, "%s", message ? message : "(no message)");
    longjmp(guard->jump, 1);
}

/// Installs the error handler and the given warning handler (process-wide MuJoCo globals).
static inline void satr_mj_install_handlers(void (*warning)(const char *)) {
    mju_user_error = satr_mj_error_handler;
    mju_user_warning = warning;
}

/// The message of the last MuJoCo error caught on this thread by a guarded call.
static inline char *satr_mj_last_error_buffer(void) {
    static _Thread_local char message[SATR_MJ_MESSAGE_SIZE];
    return message;
}

static inline const char *satr_mj_last_error_message(void) { return satr_mj_last_error_buffer(); }

#define SATR_MJ_GUARDED(body)                                                          \
    satr_mj_guard guard;                                                               \
    satr_mj_guard *volatile previous = satr_mj_current_guard;                          \
    if (setjmp(guard.jump) != 0) {                                                     \
        satr_mj_current_guard = previous;                                              \
        memcpy(satr_mj_last_error_buffer(), guard.message, SATR_MJ_MESSAGE_SIZE);               \
        return -1;                                                                     \
    }                                                                                  \
    satr_mj_current_guard = &guard;                                                    \
    body;                                                                              \
    satr_mj_current_guard = previous;                                                  \
    return 0;

/// `mj_step` `count` times. Returns 0, or -1 after a MuJoCo error (message: satr_mj_last_error_message).
static inline int satr_guarded_step(const mjModel *m, mjData *d, int count) {
    SATR_MJ_GUARDED(for (int i = 0; i < count; i++) mj_step(m, d))
}

/// `mj_step` `count` times, then `mj_rnePostConstraint` once (the Gymnasium step).
static inline int satr_guarded_step_rne(const mjModel *m, mjData *d, int count) {
    SATR_MJ_GUARDED(for (int i = 0; i < count; i++) mj_step(m, d); mj_rnePostConstraint(m, d))
}

/// `mj_forward`.
static inline int satr_guarded_forward(const mjModel *m, mjData *d) {
    SATR_MJ_GUARDED(mj_forward(m, d))
}

/// `mj_rnePostConstraint`.
static inline int satr_guarded_rne_post_constraint(const mjModel *m, mjData *d) {
    SATR_MJ_GUARDED(mj_rnePostConstraint(m, d))
}

/// `mj_resetData`.
static inline int satr_guarded_reset(const mjModel *m, mjData *d) {
    SATR_MJ_GUARDED(mj_resetData(m, d))
}

/// `mj_makeData`; stores the result in *out (NULL on failure).
static inline int satr_guarded_make_data(const mjModel *m, mjData **out) {
    *out = NULL;
    SATR_MJ_GUARDED(*out = mj_makeData(m))
}

/// `mj_copyData(dest, m, src)`.
static inline int satr_guarded_copy_data(mjData *dest, const mjModel *m, const mjData *src) {
    SATR_MJ_GUARDED(mj_copyData(dest, m, src))
}

/// Loads a model from a file (`vfs` NULL) or from an XML string held in memory, named `name` in a
/// virtual file system. Errors of the XML parser and compiler go to `error`; a MuJoCo error raised
/// through `mju_user_error` is copied there too. Returns NULL on failure.
static inline mjModel *satr_load_xml(const char *path, const char *xml, int xml_size, char *error,
                                     int error_size) {
    mjModel *model = NULL;
    mjVFS *vfs = NULL;
    if (error_size > 0) error[0] = 0;
    if (xml != NULL) {
        vfs = (mjVFS *)malloc(sizeof(mjVFS));
        if (vfs == NULL) {
            snprintf(error, error_size, "could not allocate the virtual file system");
            return NULL;
        }
        mj_defaultVFS(vfs);
        if (mj_makeEmptyFileVFS(vfs, path, xml_size) != 0) {
            snprintf(error, error_size, "could not create the in-memory file '%s'", path);
            free(vfs);
            return NULL;
        }
        int index = mj_findFileVFS(vfs, path);
        if (index < 0) {
            snprintf(error, error_size, "in-memory file '%s' not found", path);
            mj_deleteVFS(vfs);
            free(vfs);
            return NULL;
        }
        memcpy(vfs->filedata[index], xml, (size_t)xml_size);
    }
    satr_mj_guard guard;
    satr_mj_guard *volatile previous = satr_mj_current_guard;
    if (setjmp(guard.jump) != 0) {
        satr_mj_current_guard = previous;
        snprintf(error, error_size, "%s", guard.message);
        if (vfs != NULL) {
            mj_deleteVFS(vfs);
            free(vfs);
        }
        return NULL;
    }
    satr_mj_current_guard = &guard;
    model = mj_loadXML(path, vfs, error, error_size);
    satr_mj_current_guard = previous;
    if (vfs != NULL) {
        mj_deleteVFS(vfs);
        free(vfs);
    }
    return model;
}

/// Sum of the instability warning counters (bad qpos, qvel, qacc, ctrl). MuJoCo 2.2.2 resets the
/// state after such a warning (mj_checkPos/Vel/Acc) and then counts the warning again, so a non-zero
/// value after stepping means the simulation diverged since the last mj_resetData.
static inline int satr_instability_count(const mjData *d) {
    return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number +
           d->warning[mjWARN_BADQACC].number + d->warning[mjWARN_BADCTRL].number;
}

/// The counter of one warning (mjtWarning value).
static inline int satr_warning_count(const mjData *d, int warning) {
    return (warning >= 0 && warning < mjNWARNING) ? d->warning[warning].number : 0;
}

/// The last info value of one warning (e.g. the offending dof index).
static inline int satr_warning_info(const mjData *d, int warning) {
    return (warning >= 0 && warning < mjNWARNING) ? d->warning[warning].lastinfo : 0;
}

#endif
