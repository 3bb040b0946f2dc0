"""Predictors: the classes that load a trained run dir and answer raw inputs, one predictor a module with its
result types beside it.

    tagger = seqkit.Tagger.load("runs/atis")      # seqkit.predict.tagger.Tagger
    tagger.tag(["show me flights from boston to denver"])

loading.py reads a run dir for any of them and refuses one whose task names another predictor; registry.py holds
PREDICTORS, the table of the names that a task's `predictor` may give (seqkit/tasks/base.py). `import seqkit`
re-exports the predictors and their result types lazily (seqkit/__init__.py).
"""
