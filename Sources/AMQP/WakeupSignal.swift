internal import CRabbitMQ
import Glibc

/// An eventfd that wakes the driver thread out of poll() when a command arrives.
struct WakeupSignal: ~Copyable, Sendable {
    let descriptor: Int32

    init() {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit {
        Glibc.close(descriptor)
    }

    func signal() {
        eventfd_write(descriptor, 1)
    }

    func clear() {
        var count: eventfd_t = 0
        eventfd_read(descriptor, &count)
    }
}
