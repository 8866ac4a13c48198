"""Drives the gateway's Open Inference Protocol routes (/v2) with the real
clients from PyPI, tritonclient[http] and KServe's InferenceRESTClient,
which nobody here wrote. Run by test/system/oip_test.go, which checks what
the clients saw against /v1 predict. Usage: clients.py CONFIG.json; writes
one JSON object, a key per scenario, to CONFIG's "out" file and prints a
line per scenario.

CONFIG: {"host": "127.0.0.1:PORT", "key": an API key, "digits":
model/testdata/digits_all.txt, "batch": items per request, "out": FILE}.
"""

import asyncio
import json
import sys

import httpx
import numpy as np
import tritonclient.http as triton
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput
from tritonclient.utils import InferenceServerException


def read_digits(path):
    """All 1,797 scikit-learn digits: "label pixels", 64 base-17 digits."""
    rows = []
    with open(path) as f:
        for line in f:
            _, px = line.split()
            rows.append([int(c, 17) for c in px])
    return np.array(rows, dtype=np.float32).reshape(-1, 8, 8, 1)


def batches(x, n):
    for i in range(0, len(x), n):
        yield x[i : i + n]


def strings(a):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in a.reshape(-1)]


def collected():
    return {"probabilities": [], "label": [], "class": []}


def add(out, probs, label, cls):
    out["probabilities"] += probs.reshape(len(probs), -1).tolist()
    out["label"] += strings(label)
    out["class"] += [int(c) for c in cls.reshape(-1)]


# tritonclient


def triton_meta(c, h):
    return {
        "live": c.is_server_live(headers=h),
        "ready": c.is_server_ready(headers=h),
        "server": c.get_server_metadata(headers=h),
        "model_ready": c.is_model_ready("digits", headers=h),
        "version_ready": c.is_model_ready("digits", "1", headers=h),
        "unknown_ready": c.is_model_ready("nope", headers=h),
        "model": c.get_model_metadata("digits", headers=h),
        "version": c.get_model_metadata("digits", "1", headers=h),
    }


def triton_infer(c, h, x, batch, binary, dtype=np.float32, compression=None):
    """Every digit: JSON (the outputs asked, as JSON) or binary (no outputs
    asked: tritonclient then asks all of them in binary)."""
    out = collected()
    for b in batches(x, batch):
        inp = triton.InferInput("pixels", list(b.shape), "FP32" if dtype == np.float32 else "UINT8")
        inp.set_data_from_numpy(b.astype(dtype), binary_data=binary)
        outputs = None
        if not binary:
            outputs = [triton.InferRequestedOutput(n, binary_data=False) for n in ("probabilities", "label", "class")]
        # a copy: tritonclient adds its own headers to the dict it is given
        r = c.infer("digits", [inp], outputs=outputs, headers=dict(h), request_compression_algorithm=compression, request_id="r1")
        if r.get_response().get("id") != "r1" or r.get_response().get("model_name") != "digits":
            raise AssertionError(f"response {r.get_response()}")
        add(out, r.as_numpy("probabilities"), r.as_numpy("label"), r.as_numpy("class"))
    return out


def triton_classification(c, h, x):
    inp = triton.InferInput("pixels", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    r = c.infer("digits", [inp], model_version="1", outputs=[triton.InferRequestedOutput("probabilities", class_count=3)], headers=dict(h))
    top = r.as_numpy("probabilities")
    return {"shape": list(top.shape), "top": [strings(row) for row in top]}


def triton_error(fn):
    try:
        fn()
    except InferenceServerException as e:
        return {"status": e.status(), "message": e.message()}
    return {"status": None, "message": "no error"}


def triton_errors(c, h, x):
    def infer(model, arr, dtype="FP32", outputs=None, headers=h):
        inp = triton.InferInput("pixels", list(arr.shape), dtype)
        inp.set_data_from_numpy(arr)
        return c.infer(model, [inp], outputs=outputs, headers=dict(headers))

    return {
        "wrong_shape": triton_error(lambda: infer("digits", x[:2].reshape(2, 8, 8))),
        "unknown_model": triton_error(lambda: infer("nope", x[:1])),
        "unknown_model_metadata": triton_error(lambda: c.get_model_metadata("nope", headers=h)),
        "unknown_version": triton_error(lambda: c.get_model_metadata("digits", "9", headers=h)),
        "too_many_items": triton_error(lambda: infer("digits", np.repeat(x[:1], 65, axis=0))),
        "bytes_input": triton_error(lambda: infer("digits", np.array([[b"x"] * 64], dtype=np.object_), "BYTES")),
        "out_of_range": triton_error(lambda: infer("digits", np.full((1, 8, 8, 1), 17, dtype=np.float32))),
        "unknown_output": triton_error(lambda: infer("digits", x[:1], outputs=[triton.InferRequestedOutput("logits")])),
        "no_key": triton_error(lambda: infer("digits", x[:1], headers={})),
    }


def run_triton(cfg, x):
    h = {"Authorization": "Bearer " + cfg["key"]}
    c = triton.InferenceServerClient(cfg["host"])
    try:
        return {
            "triton_meta": triton_meta(c, h),
            "triton_json": triton_infer(c, h, x, cfg["batch"], binary=False),
            "triton_binary": triton_infer(c, h, x, cfg["batch"], binary=True),
            "triton_uint8_gzip": triton_infer(c, h, x, cfg["batch"], binary=True, dtype=np.uint8, compression="gzip"),
            "triton_classification": triton_classification(c, h, x[:5]),
            "triton_errors": triton_errors(c, h, x),
        }
    finally:
        c.close()


# KServe's InferenceRESTClient (asynchronous, httpx)


async def kserve_infer(c, base, h, x, batch, binary):
    out = collected()
    for b in batches(x, batch):
        inp = InferInput("pixels", list(b.shape), "FP32")
        inp.set_data_from_numpy(b, binary_data=binary)
        outs = [RequestedOutput(n, {"binary_data": binary}) for n in ("probabilities", "label", "class")]
        req = InferRequest("digits", [inp], request_outputs=outs, parameters={"binary_data_output": binary})
        r = await c.infer(base, req, model_name="digits", headers=dict(h))
        got = {o.name: o.as_numpy() for o in r.outputs}
        add(out, got["probabilities"], got["label"], got["class"])
    return out


async def kserve_error(coro):
    try:
        await coro
    except httpx.HTTPStatusError as e:
        return {"status": e.response.status_code, "message": str(e)}
    return {"status": None, "message": "no error"}


async def run_kserve(cfg, x):
    base = "http://" + cfg["host"]
    h = {"Authorization": "Bearer " + cfg["key"]}
    c = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
    try:
        wrong = InferInput("pixels", [1, 63], "FP32")
        wrong.set_data_from_numpy(np.zeros((1, 63), dtype=np.float32), binary_data=False)
        one = InferInput("pixels", [1, 8, 8, 1], "FP32")
        one.set_data_from_numpy(x[:1], binary_data=False)
        return {
            "kserve_health": {
                "live": await c.is_server_live(base, headers=h),
                "ready": await c.is_server_ready(base, headers=h),
                "model_ready": await c.is_model_ready(base, "digits", headers=h),
                "unknown_ready": await c.is_model_ready(base, "nope", headers=h),
            },
            "kserve_json": await kserve_infer(c, base, h, x, cfg["batch"], binary=False),
            "kserve_binary": await kserve_infer(c, base, h, x, cfg["batch"], binary=True),
            "kserve_errors": {
                "wrong_shape": await kserve_error(c.infer(base, InferRequest("digits", [wrong]), model_name="digits", headers=dict(h))),
                "unknown_model": await kserve_error(c.infer(base, InferRequest("nope", [one]), model_name="nope", headers=dict(h))),
            },
        }
    finally:
        await c.close()


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    x = read_digits(cfg["digits"])
    res = run_triton(cfg, x)
    res.update(asyncio.run(run_kserve(cfg, x)))
    with open(cfg["out"], "w") as f:
        json.dump(res, f)
    for name, r in res.items():
        summary = {k: (len(v) if isinstance(v, list) else v) for k, v in r.items()} if isinstance(r, dict) else r
        print(json.dumps({"scenario": name, "summary": summary})[:2000])


if __name__ == "__main__":
    main()
