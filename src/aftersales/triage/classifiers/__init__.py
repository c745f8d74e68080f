"""The two model families compared on the corpus, and their ensemble (docs/adr/0017-triage-models.md):

- `charngram`: TF-IDF over character n-grams (1-4, within word boundaries) + multinomial logistic
  regression per head. Robust to typos and needs no tokenizer for zh/ja/th.
- `embedding`: USE multilingual v3 sentence embeddings (triage.embeddings) + logistic regression.
- `ensemble`: the mean of both models' temperature-calibrated probabilities.

Each head (intent, urgency, sentiment) has its own linear model; probabilities are calibrated by one
temperature per (model, head) fitted on the dev split."""

HEADS = ("intent", "urgency", "sentiment")
KINDS = ("charngram", "embedding", "ensemble")
