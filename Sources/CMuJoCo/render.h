// Offscreen rendering with MuJoCo's own renderer (mjv_* scene, mjr_* OpenGL renderer), in a
// headless OpenGL context from EGL on Mesa's surfaceless platform (no display, no window).
//
// libEGL is loaded at run time (dlopen), so building and running everything else needs no GL
// packages; `satr render` reports which Debian packages to install when it is missing. The few
// EGL constants used are the Khronos registry's values (EGL 1.5, EGL_MESA_platform_surfaceless).
// MuJoCo finds the OpenGL functions of the current context through its own loader.
#ifndef SATR_CMUJOCO_RENDER_H
#define SATR_CMUJOCO_RENDER_H
#include "shim.h"
#include <dlfcn.h>
#include <stdint.h>

typedef void *satr_egl_display;
typedef void *satr_egl_context;
typedef void *satr_egl_config;

#define SATR_EGL_NONE 0x3038
#define SATR_EGL_SURFACE_TYPE 0x3033
#define SATR_EGL_PBUFFER_BIT 0x0001
#define SATR_EGL_RED_SIZE 0x3024
#define SATR_EGL_GREEN_SIZE 0x3023
#define SATR_EGL_BLUE_SIZE 0x3022
#define SATR_EGL_DEPTH_SIZE 0x3025
#define SATR_EGL_RENDERABLE_TYPE 0x3040
#define SATR_EGL_OPENGL_BIT 0x0008
#define SATR_EGL_OPENGL_API 0x30A2
#define SATR_EGL_PLATFORM_SURFACELESS_MESA 0x31DD

typedef struct satr_gl {
    void *library;
    satr_egl_display display;
    satr_egl_context context;
    unsigned (*terminate)(satr_egl_display);
    unsigned (*destroy_context)(satr_egl_display, satr_egl_context);
    unsigned (*make_current)(satr_egl_display, void *, void *, satr_egl_context);
} satr_gl;

/// Creates a headless OpenGL context (EGL, Mesa surfaceless platform) and makes it current on this
/// thread. Returns NULL with a message in `error` on failure.
static inline satr_gl *satr_gl_create(char *error, int error_size) {
    void *lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (lib == NULL) {
        snprintf(error, error_size, "could not load libEGL.so.1 (%s)", dlerror());
        return NULL;
    }
    void *(*get_proc)(const char *) = (void *(*)(const char *))dlsym(lib, "eglGetProcAddress");
    satr_egl_display (*get_platform_display)(unsigned, void *, const intptr_t *) = NULL;
    if (get_proc != NULL) {
        get_platform_display = (satr_egl_display(*)(unsigned, void *, const intptr_t *))get_proc("eglGetPlatformDisplay");
    }
    unsigned (*initialize)(satr_egl_display, int32_t *, int32_t *) = (unsigned (*)(satr_egl_display, int32_t *, int32_t *))dlsym(lib, "eglInitialize");
    unsigned (*choose)(satr_egl_display, const int32_t *, satr_egl_config *, int32_t, int32_t *) =
        (unsigned (*)(satr_egl_display, const int32_t *, satr_egl_config *, int32_t, int32_t *))dlsym(lib, "eglChooseConfig");
    unsigned (*bind_api)(unsigned) = (unsigned (*)(unsigned))dlsym(lib, "eglBindAPI");
    satr_egl_context (*create_context)(satr_egl_display, satr_egl_config, satr_egl_context, const int32_t *) =
        (satr_egl_context(*)(satr_egl_display, satr_egl_config, satr_egl_context, const int32_t *))dlsym(lib, "eglCreateContext");
    int32_t (*get_error)(void) = (int32_t(*)(void))dlsym(lib, "eglGetError");
    satr_gl *gl = (satr_gl *)calloc(1, sizeof(satr_gl));
    if (gl == NULL) return NULL;
    gl->library = lib;
    gl->terminate = (unsigned (*)(satr_egl_display))dlsym(lib, "eglTerminate");
    gl->destroy_context = (unsigned (*)(satr_egl_display, satr_egl_context))dlsym(lib, "eglDestroyContext");
    gl->make_current = (unsigned (*)(satr_egl_display, void *, void *, satr_egl_context))dlsym(lib, "eglMakeCurrent");
    if (get_platform_display == NULL || initialize == NULL || choose == NULL || bind_api == NULL ||
        create_context == NULL || get_error == NULL || gl->terminate == NULL || gl->destroy_context == NULL ||
        gl->make_current == NULL) {
        snprintf(error, error_size, "libEGL.so.1 lacks EGL 1.5 functions");
        dlclose(lib);
        free(gl);
        return NULL;
    }
    gl->display = get_platform_display(SATR_EGL_PLATFORM_SURFACELESS_MESA, NULL, NULL);
    int32_t major = 0, minor = 0;
    if (gl->display == NULL || !initialize(gl->display, &major, &minor)) {
        snprintf(error, error_size, "EGL has no surfaceless (headless) display (error 0x%x); Mesa's EGL driver provides one", get_error());
        dlclose(lib);
        free(gl);
        return NULL;
    }
    const int32_t attributes[] = {SATR_EGL_SURFACE_TYPE, SATR_EGL_PBUFFER_BIT, SATR_EGL_RED_SIZE, 8, SATR_EGL_GREEN_SIZE, 8,
                                  SATR_EGL_BLUE_SIZE, 8, SATR_EGL_DEPTH_SIZE, 24, SATR_EGL_RENDERABLE_TYPE,
                                  SATR_EGL_OPENGL_BIT, SATR_EGL_NONE};
    satr_egl_config config = NULL;
    int32_t count = 0;
    if (!choose(gl->display, attributes, &config, 1, &count) || count < 1 || !bind_api(SATR_EGL_OPENGL_API) ||
        (gl->context = create_context(gl->display, config, NULL, NULL)) == NULL ||
        !gl->make_current(gl->display, NULL, NULL, gl->context)) {
        snprintf(error, error_size, "EGL could not create an OpenGL context (error 0x%x)", get_error());
        gl->terminate(gl->display);
        dlclose(lib);
        free(gl);
        return NULL;
    }
    return gl;
}

/// Releases the context made by satr_gl_create.
static inline void satr_gl_destroy(satr_gl *gl) {
    if (gl == NULL) return;
    gl->make_current(gl->display, NULL, NULL, NULL);
    gl->destroy_context(gl->display, gl->context);
    gl->terminate(gl->display);
    free(gl);
}

/// MuJoCo's visualization state and GPU resources for one model (allocated in C: mjvScene and
/// mjrContext are large structs of fixed arrays).
typedef struct satr_renderer {
    mjvScene scene;
    mjvCamera camera;
    mjvOption option;
    mjrContext context;
    int width;
    int height;
    unsigned char *rgb;
} satr_renderer;

/// Creates the scene and the renderer's GL resources for `m` (whose `vis.global.offwidth/offheight`
/// must be at least width x height) in the current context; the offscreen buffer is selected.
/// Shadows and reflections are off unless `shadows` (software GL renders them slowly).
static inline int satr_guarded_renderer_create(const mjModel *m, int width, int height, int shadows, satr_renderer **out) {
    *out = NULL;
    satr_renderer *r = (satr_renderer *)calloc(1, sizeof(satr_renderer));
    if (r == NULL) return -1;
    r->rgb = (unsigned char *)malloc((size_t)width * (size_t)height * 3);
    if (r->rgb == NULL) {
        free(r);
        return -1;
    }
    r->width = width;
    r->height = height;
    mjv_defaultCamera(&r->camera);
    mjv_defaultOption(&r->option);
    mjv_defaultScene(&r->scene);
    mjr_defaultContext(&r->context);
    *out = r;
    SATR_MJ_GUARDED(mjv_makeScene(m, &r->scene, 2000); mjr_makeContext(m, &r->context, mjFONTSCALE_150);
                    mjr_setBuffer(mjFB_OFFSCREEN, &r->context);
                    r->scene.flags[mjRND_SHADOW] = (mjtByte)(shadows != 0);
                    r->scene.flags[mjRND_REFLECTION] = (mjtByte)(shadows != 0))
}

/// The size of the offscreen buffer mjr_makeContext made.
static inline int satr_renderer_offscreen_width(const satr_renderer *r) { return r->context.offWidth; }
static inline int satr_renderer_offscreen_height(const satr_renderer *r) { return r->context.offHeight; }

/// A camera that tracks body `body` (its subtree's centre of mass) from `distance`, `elevation`
/// and `azimuth` (degrees); with `body` < 1 a free camera looking at `lookat`.
static inline void satr_renderer_track(satr_renderer *r, int body, double distance, double elevation, double azimuth,
                                       const double *lookat) {
    r->camera.type = body >= 1 ? mjCAMERA_TRACKING : mjCAMERA_FREE;
    r->camera.trackbodyid = body;
    r->camera.distance = distance;
    r->camera.elevation = elevation;
    r->camera.azimuth = azimuth;
    for (int i = 0; i < 3; i++) r->camera.lookat[i] = lookat[i];
}

/// The model's camera `id` (mjCAMERA_FIXED).
static inline void satr_renderer_fixed(satr_renderer *r, int id) {
    r->camera.type = mjCAMERA_FIXED;
    r->camera.fixedcamid = id;
}

/// Renders the state of `d`, draws `left`/`right` (may be NULL) as an overlay in the top-left
/// corner, reads the pixels and writes them top row first as RGB24 into `out` (width*height*3).
static inline int satr_guarded_render_frame(satr_renderer *r, const mjModel *m, mjData *d, const char *left,
                                            const char *right, unsigned char *out) {
    mjrRect viewport = {0, 0, r->width, r->height};
    SATR_MJ_GUARDED(
        mjv_updateScene(m, d, &r->option, NULL, &r->camera, mjCAT_ALL, &r->scene); mjr_render(viewport, &r->scene, &r->context);
        if (left != NULL) mjr_overlay(mjFONT_NORMAL, mjGRID_TOPLEFT, viewport, left, right, &r->context);
        mjr_readPixels(r->rgb, NULL, viewport, &r->context);
        size_t row = (size_t)r->width * 3;
        for (int y = 0; y < r->height; y++) memcpy(out + (size_t)y * row, r->rgb + (size_t)(r->height - 1 - y) * row, row))
}

/// Frees the scene and the GL resources (the context must still be current).
static inline void satr_renderer_free(satr_renderer *r) {
    if (r == NULL) return;
    mjv_freeScene(&r->scene);
    mjr_freeContext(&r->context);
    free(r->rgb);
    free(r);
}

#endif
