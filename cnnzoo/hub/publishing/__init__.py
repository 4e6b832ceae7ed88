"""Publishing weights: a finished run into weights/ and the index (``register_run``), the Hugging Face Hub folder
and upload (``publish``), model cards (``model_card``) and the published figures compared with (``comparisons``)."""
