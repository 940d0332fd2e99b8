//! Objects to tasks (in progress).
