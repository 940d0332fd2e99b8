//! Group commit for annotation writes: a durable commit costs a disk flush, and annotations
//! arrive from many clients at once, so one writer thread takes every write waiting and
//! commits them together. Each caller is answered only after the commit that holds its write
//! returned, so an answer still means the write (and its outbox event) is on disk. Alone, a
//! write commits at once; under load, commits carry more writes, not more latency.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Weak};

use redb::WriteTransaction;
use tokio::sync::oneshot;

use super::annotations;
use super::tables::During;
use crate::embedded_db::EmbeddedDb;
use crate::model::{Annotation, AnnotationId, AnnotationPatch, NewAnnotation, TaskId};
use crate::state::{StateError, StateResult};

/// Writes taken into one transaction at most.
const MOST_PER_COMMIT: usize = 256;

/// One annotation write.
#[derive(Clone)]
pub(super) enum AnnotationWrite {
    Create(TaskId, NewAnnotation),
    Update(AnnotationId, AnnotationPatch),
    Delete(AnnotationId),
}

type Outcome = StateResult<Option<Annotation>>;

struct Request {
    write: AnnotationWrite,
    reply: oneshot::Sender<Outcome>,
}

/// The writer thread's inbox.
pub(super) struct GroupCommit {
    requests: Sender<Request>,
}

impl GroupCommit {
    /// Starts the writer thread; it ends when the state (the last sender) is dropped. It holds
    /// the file weakly, so dropping the state and its file closes the file.
    pub(super) fn start(db: &Arc<EmbeddedDb>) -> GroupCommit {
        let (requests, inbox) = channel();
        let db = Arc::downgrade(db);
        std::thread::Builder::new()
            .name("labelsync-group-commit".into())
            .spawn(move || run(&db, &inbox))
            .expect("the group commit thread starts");
        GroupCommit { requests }
    }

    /// Commits `write` (with others waiting at the same time) and answers once it is durable.
    pub(super) async fn write(&self, write: AnnotationWrite) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { write, reply })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn gone() -> StateError {
    StateError::Store {
        operation: "annotation write",
        source: "the group commit thread stopped".into(),
    }
}

fn run(db: &Weak<EmbeddedDb>, inbox: &Receiver<Request>) {
    while let Ok(first) = inbox.recv() {
        let mut batch = vec![first];
        while batch.len() < MOST_PER_COMMIT {
            match inbox.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        // Gone only when the state was dropped; its callers' answers then report it.
        let Some(db) = db.upgrade() else { return };
        commit_batch(&db, batch);
    }
}

/// One transaction for the batch. A write that fails (a missing task, a broken record) must
/// not take the others down with it: the batch is then committed one write at a time, so
/// each caller gets its own outcome.
fn commit_batch(db: &EmbeddedDb, batch: Vec<Request>) {
    let writes: Vec<AnnotationWrite> = batch.iter().map(|r| r.write.clone()).collect();
    match commit(db, &writes) {
        Ok(outcomes) => {
            for (request, outcome) in batch.into_iter().zip(outcomes) {
                let _ = request.reply.send(Ok(outcome));
            }
        }
        Err(_) if batch.len() > 1 => {
            for request in batch {
                let outcome = commit(db, std::slice::from_ref(&request.write))
                    .map(|mut outcomes| outcomes.pop().flatten());
                let _ = request.reply.send(outcome);
            }
        }
        Err(error) => {
            if let Some(request) = batch.into_iter().next() {
                let _ = request.reply.send(Err(error));
            }
        }
    }
}

fn commit(db: &EmbeddedDb, writes: &[AnnotationWrite]) -> StateResult<Vec<Option<Annotation>>> {
    const OP: &str = "annotation write";
    let txn = db.database().begin_write().during(OP)?;
    let outcomes = writes
        .iter()
        .map(|write| apply(&txn, write.clone()))
        .collect::<StateResult<Vec<_>>>()?;
    txn.commit().during(OP)?;
    Ok(outcomes)
}

fn apply(txn: &WriteTransaction, write: AnnotationWrite) -> Outcome {
    match write {
        AnnotationWrite::Create(task, new) => annotations::create_in(txn, task, new).map(Some),
        AnnotationWrite::Update(id, patch) => annotations::update_in(txn, id, patch),
        AnnotationWrite::Delete(id) => annotations::delete_in(txn, id),
    }
}
