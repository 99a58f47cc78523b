import Foundation

/// Turns "the launcher terminated this process" into a message a person can act on.
///
/// When one rank of an MPI job dies, `mpirun` sends SIGTERM to the others; by default they would
/// vanish silently in the middle of a collective. ``install(message:)`` blocks SIGTERM and SIGINT
/// in the calling thread (and so in every thread created after it, MPI's progress threads and the
/// evaluation workers included) and starts one thread that waits for them with `sigwait`, writes
/// `message()` to standard error and exits with status 128 + signal. The message is ordinary Swift
/// code running on an ordinary thread, not inside a signal handler.
///
/// Checkpoints are written atomically (write, fsync, rename), so stopping at any instant leaves the
/// last complete checkpoint intact.
public enum TerminationNotice {
    /// Call once, early: before MPI is initialized and before any worker thread starts.
    public static func install(message: @escaping @Sendable (_ signal: Int32) -> String) {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let waiter = Thread {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGTERM)
            sigaddset(&set, SIGINT)
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { return }
            writeToStandardError(message(received))
            _exit(128 + received)
        }
        waiter.name = "satr-termination-notice"
        waiter.start()
    }
}
