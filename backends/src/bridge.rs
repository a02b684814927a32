//! Run async client calls from the synchronous `StateStore` methods: a private tokio runtime
//! (one worker thread) executes them; the caller blocks on a channel. This works whether the
//! caller is a plain thread or a task of another runtime (it never nests `block_on`).

use std::future::Future;

pub struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Bridge {
    pub fn new(name: &str) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("netform-{name}"))
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the {name} backend's runtime: {e}"))?;
        Ok(Bridge {
            runtime: Some(runtime),
        })
    }

    /// Run `fut` to completion on the private runtime.
    pub fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, String> {
        let Some(rt) = &self.runtime else {
            return Err("the backend is shut down".into());
        };
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| "the backend's runtime stopped".to_string())
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Dropping a runtime blocks; that is not allowed inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
