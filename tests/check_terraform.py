"""Checks that infra/terraform describes the same stack as infra/template.yaml (SAM).

terraform validate cannot run here (the AWS provider comes from a registry this machine does
not reach), so this compares what both deployments must agree on: the functions, their memory
and timeouts, which queue each consumes with which batch size and partial-failure reporting,
the queues' visibility timeouts, the HTTP routes, the schedules, the functions behind a
streaming Function URL and the dead-letter queues with an alarm. Exits 1 with every difference listed.
"""
import glob
import sys

import hcl2
import yaml


class SamLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !GetAtt, !Sub) as plain values."""


SamLoader.add_multi_constructor("!", lambda loader, suffix, node: suffix + ":" + str(getattr(node, "value", "")))


def unquote(value):
    return value.strip('"') if isinstance(value, str) else value


def terraform(folder):
    merged = {}
    for path in glob.glob(f"{folder}/*.tf"):
        for block in hcl2.load(open(path)).get("locals", []):
            merged.update({unquote(k): v for k, v in block.items()})
    return merged


def sam_view(template):
    resources = template["Resources"]
    queue_of = {f"GetAtt:{name}.Arn": name for name in resources}
    functions, routes, consumers = {}, {}, {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        props = resource["Properties"]
        globals_ = template["Globals"]["Function"]
        functions[binary] = (props.get("MemorySize", globals_["MemorySize"]), props.get("Timeout", globals_["Timeout"]))
        for event in props.get("Events", {}).values():
            p = event["Properties"]
            if event["Type"] == "HttpApi":
                routes[f"{p['Method']} {p['Path']}"] = binary
            elif event["Type"] == "SQS":
                queue = queue_of[p["Queue"]].removesuffix("Queue").lower()
                reports = "ReportBatchItemFailures" in p.get("FunctionResponseTypes", [])
                consumers[binary] = (queue, p["BatchSize"], reports)
    visibility = {
        name.removesuffix("Queue").lower(): r["Properties"]["VisibilityTimeout"]
        for name, r in resources.items()
        if r["Type"] == "AWS::SQS::Queue" and "VisibilityTimeout" in r["Properties"]
    }
    schedules = sorted(
        r["Properties"]["ScheduleExpression"]
        for r in resources.values()
        if r["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in r["Properties"]
    )
    return functions, routes, consumers, visibility, schedules


def terraform_view(local):
    functions, consumers = {}, {}
    for name, f in local["functions"].items():
        name = unquote(name)
        functions[name] = (f["memory"], f["timeout"])
        if f["consumes"] not in (None, "null"):
            consumers[name] = (unquote(f["consumes"]), f["batch"], True)
    routes = {unquote(k): unquote(v) for k, v in local["routes"].items()}
    visibility = {unquote(k): v["visibility_timeout"] for k, v in local["queues"].items()}
    schedules = sorted(unquote(v) for k, v in local.items() if k == "schedule")
    return functions, routes, consumers, visibility, schedules


def sam_streamed(template):
    """Binaries behind a Function URL, with its auth type and invoke mode."""
    return sorted(
        (r["Metadata"]["BuildProperties"]["Binary"], c.get("AuthType"), c.get("InvokeMode"))
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for c in [r["Properties"].get("FunctionUrlConfig")]
        if c
    )


def sam_alarmed(template):
    """Dead-letter queues with an alarm on visible messages, and its threshold."""
    out = []
    for r in template["Resources"].values():
        p = r["Properties"] if r["Type"] == "AWS::CloudWatch::Alarm" else None
        if p and p["MetricName"] == "ApproximateNumberOfMessagesVisible":
            queue = p["Dimensions"][0]["Value"].split(":")[1].split(".")[0]
            out.append((queue.removesuffix("DeadLetterQueue").lower(), p["Threshold"]))
    return sorted(out)


def terraform_alarmed(folder, local):
    out = []
    for (kind, _), body in terraform_resources(folder).items():
        if kind == "aws_cloudwatch_metric_alarm" and "dead_letter" in str(body["dimensions"]):
            queues = local["queues"] if "local.queues" in str(body["for_each"]) else {}
            out.extend((unquote(q), body["threshold"]) for q in queues)
    return sorted(out)


def terraform_resources(folder):
    resources = {}
    for path in glob.glob(f"{folder}/*.tf"):
        for block in hcl2.load(open(path)).get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    resources[(unquote(kind), unquote(name))] = body
    return resources


def terraform_streamed(folder):
    """The same from `aws_lambda_function_url` resources and the function each one names."""
    resources = terraform_resources(folder)
    out = []
    for (kind, _), body in resources.items():
        if kind != "aws_lambda_function_url":
            continue
        target = unquote(body["function_name"]).strip("${}").split(".")[1]
        binary = unquote(resources[("aws_lambda_function", target)]["filename"]).split("/")[-2]
        out.append((binary, unquote(body["authorization_type"]), unquote(body["invoke_mode"])))
    return sorted(out)


def main():
    template = yaml.load(open("infra/template.yaml"), Loader=SamLoader)
    local = terraform("infra/terraform")
    sam = list(sam_view(template)) + [sam_streamed(template), sam_alarmed(template)]
    tf = list(terraform_view(local)) + [
        terraform_streamed("infra/terraform"),
        terraform_alarmed("infra/terraform", local),
    ]
    what = ["functions", "routes", "queue consumers", "visibility timeouts", "schedules", "function URLs", "dead-letter alarms"]
    problems = [f"{w}: SAM has {s!r}, Terraform has {t!r}" for w, s, t in zip(what, sam, tf) if s != t]
    if "ReportBatchItemFailures" not in open("infra/terraform/functions.tf").read():
        problems.append("Terraform's event source mappings do not report partial batch failures")
    for problem in problems:
        print(f"check_terraform: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("check_terraform: Terraform and SAM describe the same stack")
    return 0


if __name__ == "__main__":
    sys.exit(main())
