//! What an object notification says, once a storage type has read it: an object at a location
//! was created or removed.

/// A change to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectChange {
    Created,
    Removed,
}

/// One object notification, in the terms storages are indexed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectEvent {
    /// Where the object lives (`s3://bucket/`), as `Storage::location` says it and
    /// [`super::StorageRecord::location`] holds it.
    pub location: String,
    /// The object's key, decoded.
    pub key: String,
    pub change: ObjectChange,
}
