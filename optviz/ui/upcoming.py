"""Pages whose lessons are not built yet: each says, in one line, what it will show."""

import streamlit as st


def mlp() -> None:
    st.title("MLP & backpropagation")
    st.write(
        "Coming next: a 784-128-10 network trained live on real MNIST digits with the lab's optimizers, "
        "and the computation graph of backpropagation step by step."
    )
