//! Where answering happens: a runtime of its own whose threads run at a lower CPU priority than
//! the webhooks'.
//!
//! A webhook only has to make a message durable (the intake journal); storing it in sled,
//! running the flow and sending the reply can wait a moment. Under a burst on a small machine
//! both compete for the same cores, and without priorities the providers' requests queue behind
//! the answering work (p99 of tens of milliseconds). At a lower priority the answering work
//! takes whatever the webhooks leave, which is nearly everything outside bursts.

use tokio::runtime::{Handle, Runtime};

/// The nice value of background threads (0 is normal, 19 the lowest). At 10 the kernel gives
/// them about a tenth of a contended core: answering never stops, it only yields.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority; threads it starts inherit it. Best effort: if the
/// system refuses, everything still works, only without the preference.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers and touches no memory of ours. On Linux
        // the nice value belongs to the thread, and who = 0 means the calling thread.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE) };
        if result != 0 {
            tracing::debug!("cannot lower the priority of a background thread");
        }
    }
}

/// The background runtime. Dropping it stops its tasks without blocking, so it may be dropped
/// from async code (tests do).
pub struct Background {
    runtime: Option<Runtime>,
}

impl Background {
    pub fn start() -> std::io::Result<Background> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("kabar-background")
            .on_thread_start(lower_this_thread)
            .enable_all()
            .build()?;
        Ok(Background {
            runtime: Some(runtime),
        })
    }

    pub fn handle(&self) -> Handle {
        match &self.runtime {
            Some(runtime) => runtime.handle().clone(),
            // Only after drop; never reached through a live `Background`.
            None => Handle::current(),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
