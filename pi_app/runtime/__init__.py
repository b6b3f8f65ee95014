"""The running device: device_cli (`facegate run`) builds a device_app, which records through recording/, queues
each clip (work_queue, worker_pool) for clip_worker (recognise, then upload, through transport/), and fans the
contract's typed events out on the events bus (event_relay lets a sink emit) to stats, views, visits/ and actions/.
shutdown, logging_setup and stamped_ids serve them all.
"""
