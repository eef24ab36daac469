//! Running a list of borrowed futures at once (one per region) without spawning, so they may
//! borrow the provider.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// A boxed, `Send` future borrowing `'a`.
pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Polls every future until all are done; results in the input order.
pub(crate) async fn join_all<T>(futures: Vec<Boxed<'_, T>>) -> Vec<T> {
    let mut pending: Vec<Option<Boxed<'_, T>>> = futures.into_iter().map(Some).collect();
    let mut results: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut open = false;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => open = true,
                }
            }
        }
        if open { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Like [`join_all`], then the first error, if any.
pub(crate) async fn try_join_all<T, E>(futures: Vec<Boxed<'_, Result<T, E>>>) -> Result<Vec<T>, E> {
    join_all(futures).await.into_iter().collect()
}
