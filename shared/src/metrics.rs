//! Operational metrics as CloudWatch embedded-metric-format (EMF) lines: one JSON object a
//! line on the function's log stream, which CloudWatch turns into metrics without an API call
//! or a client. Lambda functions emit them ([`Metrics::emf`]); the local process does not.

use std::sync::Arc;

use serde_json::json;

/// The namespace of every metric labelsync emits.
pub const NAMESPACE: &str = "labelsync";

/// One measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// Tasks a sync batch or an object event created.
    TasksCreated(u64),
    /// Seconds from a sync's (import or export) start to its end.
    SyncDuration(f64),
    /// Annotation writes to a target storage that failed (each is retried).
    ExportFailures(u64),
    /// Messages that failed on their last delivery, their failure recorded instead.
    DeadLettered(u64),
}

impl Metric {
    fn name_unit_value(self) -> (&'static str, &'static str, f64) {
        match self {
            Metric::TasksCreated(n) => ("TasksCreated", "Count", n as f64),
            Metric::SyncDuration(seconds) => ("SyncDuration", "Seconds", seconds),
            Metric::ExportFailures(n) => ("ExportFailures", "Count", n as f64),
            Metric::DeadLettered(n) => ("DeadLettered", "Count", n as f64),
        }
    }
}

/// Where EMF lines go.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// A process's metrics: off, or EMF lines with the function's name as their dimension.
#[derive(Clone, Default)]
pub struct Metrics {
    emf: Option<(Sink, String)>,
}

impl Metrics {
    /// EMF lines on standard output (a Lambda function's log stream).
    pub fn emf(function: &str) -> Self {
        Metrics::to(Arc::new(|line: &str| println!("{line}")), function)
    }

    /// EMF lines handed to `sink`.
    pub fn to(sink: Sink, function: &str) -> Self {
        Metrics {
            emf: Some((sink, function.to_owned())),
        }
    }

    pub fn emit(&self, metric: Metric) {
        if let Some((sink, function)) = &self.emf {
            sink(&emf_line(
                function,
                metric,
                crate::model::now().timestamp_millis(),
            ));
        }
    }
}

fn emf_line(function: &str, metric: Metric, timestamp_ms: i64) -> String {
    let (name, unit, value) = metric.name_unit_value();
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
        "Function": function,
        name: value,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::Value;

    use super::*;

    #[test]
    fn lines_follow_the_embedded_metric_format() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&lines);
        let sink: Sink = Arc::new(move |line: &str| kept.lock().unwrap().push(line.to_owned()));
        let metrics = Metrics::to(sink, "task-ingest");
        metrics.emit(Metric::TasksCreated(42));
        metrics.emit(Metric::SyncDuration(1.5));
        Metrics::default().emit(Metric::DeadLettered(1));

        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 2, "an off switch emits nothing");
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        let directive = &first["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "TasksCreated", "Unit": "Count"}])
        );
        assert!(
            first["_aws"]["Timestamp"]
                .as_i64()
                .is_some_and(|t| t > 1_700_000_000_000)
        );
        assert_eq!(
            (&first["Function"], &first["TasksCreated"]),
            (&json!("task-ingest"), &json!(42.0))
        );
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(second["SyncDuration"], 1.5);
        assert_eq!(
            second["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Seconds"
        );
    }
}
