import Engine
import Foundation
import Synchronization

/// Set by SIGINT/SIGTERM so long loops can stop at a clean point.
let stopRequested = Atomic<Bool>(false)

/// Installs the handlers and unblocks the signals: a parent may have blocked them, and a blocked
/// mask survives exec.
func installStopHandlers() {
    var set = sigset_t()
    sigemptyset(&set)
    for s in [SIGINT, SIGTERM, SIGHUP] {
        signal(s) { _ in stopRequested.store(true, ordering: .relaxed) }
        sigaddset(&set, s)
    }
    sigprocmask(SIG_UNBLOCK, &set, nil)
}
