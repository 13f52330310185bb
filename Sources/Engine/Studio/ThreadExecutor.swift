import Foundation
import Synchronization

/// A serial executor that runs every job on one dedicated thread, so an actor using it computes
/// off the UI thread. Jobs wait in a queue guarded by a mutex; a semaphore wakes the thread.
public final class ThreadExecutor: SerialExecutor, TaskExecutor, Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let wake = DispatchSemaphore(value: 0)

    public init(name: String) {
        let thread = Thread { [self] in self.drain() }
        thread.name = name
        thread.stackSize = 16 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        wake.signal()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    private func drain() {
        while true {
            wake.wait()
            let next = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            next?.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
