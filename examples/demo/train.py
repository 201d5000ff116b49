"""Train the demo classifier: softmax regression on data/train.csv, saved as
SafeTensors (no pickle anywhere, so loading the model cannot run code)."""

import csv

import numpy as np
from safetensors.numpy import load_file, save_file

LABELS = ["setosa", "versicolor", "virginica"]


def load(path: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[k]) for k in list(r)[:4]] for r in rows], dtype=np.float32)
    y = np.array([LABELS.index(r["label"]) for r in rows])
    return x, y


def train(x: np.ndarray, y: np.ndarray, epochs: int = 200, lr: float = 0.1) -> dict:
    w = np.zeros((3, 4), dtype=np.float32)
    b = np.zeros(3, dtype=np.float32)
    onehot = np.eye(3)[y]
    for _ in range(epochs):
        logits = x @ w.T + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        grad = (p - onehot) / len(x)
        w -= lr * (grad.T @ x)
        b -= lr * grad.sum(axis=0)
    return {"linear.weight": w, "linear.bias": b}


if __name__ == "__main__":
    weights = train(*load("data/train.csv"))
    save_file(weights, "models/classifier.safetensors")
    assert load_file("models/classifier.safetensors").keys() == weights.keys()
