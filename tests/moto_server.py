"""moto_server with DynamoDB requests taken one at a time.

moto 5.2 deep-copies every table inside TransactWriteItems (to roll back); when another request
thread changes a table during the copy, the copy fails ("dictionary changed size during
iteration") and the client gets a 500 that real DynamoDB never sends. Serialising DynamoDB
requests removes the race without touching S3, SQS (long polls keep their own threads) or STS.
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_dynamodb = threading.Lock()
_call_action = DynamoHandler.call_action


def _one_at_a_time(self):
    with _dynamodb:
        return _call_action(self)


DynamoHandler.call_action = _one_at_a_time

if __name__ == "__main__":
    sys.exit(main())
