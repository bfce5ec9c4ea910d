"""An algo whose callbacks do nothing: measures the runtime itself (bench/e2e.py --algo)."""

from meshrt import Actions, Algo, AlgoState, Book, Features, Fill, Reject


class NoOp(Algo):
    def on_book(self, book: Book, state: AlgoState, features: Features, actions: Actions) -> None:
        pass

    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        pass

    def on_reject(self, reject: Reject, state: AlgoState, actions: Actions) -> None:
        pass
